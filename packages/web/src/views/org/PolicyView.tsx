import type { LoadState } from '../../load.js';
import type { OrgPolicy } from '../../org-types.js';
import { Loaded } from '../common.js';
import { PolicyForm, type PolicyFormProps } from './PolicyForm.js';
import { PolicySummary } from './PolicySummary.js';

export interface PolicyViewProps {
  policy: LoadState<OrgPolicy>;
  edit: Omit<PolicyFormProps, 'policy'>;
}

/** The policies section: every rule in force, then the form that changes them. */
export function PolicyView({ policy, edit }: PolicyViewProps) {
  return (
    <section id="policy" aria-labelledby="policy-title">
      <h2 id="policy-title">Policies</h2>
      <Loaded
        state={policy}
        what="the organization policy"
        ready={(shown) => (
          <>
            <PolicySummary policy={shown} />
            <PolicyForm key={shown.updatedAt ?? 'defaults'} policy={shown} {...edit} />
          </>
        )}
      />
    </section>
  );
}
