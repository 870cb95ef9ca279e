import { useId, useState, type FormEvent } from 'react';
import type { OrgPolicy, PolicyPatch, PortShareLevel } from '../../org-types.js';
import { ErrorNote } from '../common.js';
import { fieldTextOf, policyPatchOf } from './policy-patch.js';
import { portShareText } from './policy-text.js';

export interface PolicyFormProps {
  policy: OrgPolicy;
  busy: boolean;
  /** The API's refusal of the last save, in its words. */
  error: string | null;
  notice: string | null;
  onSave: (patch: PolicyPatch, changed: string[]) => void;
}

type TextRule = Exclude<keyof PolicyPatch, 'maxPortShareLevel' | 'breakGlass'>;

interface Field {
  rule: TextRule;
  label: string;
  kind: 'lines' | 'number' | 'json';
  hint: string;
}

// Known gap: projects, egress and agent rules are edited as JSON text, so a mistake in their shape
// is found by the API on save; a structured editor per rule would catch it while typing.
const jsonHint = 'JSON as the API shows it (GET /v1/org/policy); empty: clear the rule.';

const fields: Field[] = [
  {
    rule: 'allowedRepositoryPatterns',
    label: 'Allowed repository patterns',
    kind: 'lines',
    hint: 'One a line; * matches within a path segment, ** across them. Empty: any repository.',
  },
  {
    rule: 'allowedClasses',
    label: 'Allowed classes',
    kind: 'lines',
    hint: 'One a line. Empty: any class a runner offers.',
  },
  {
    rule: 'maxRunningPerUser',
    label: 'Running environments per user',
    kind: 'number',
    hint: 'Empty: no limit.',
  },
  {
    rule: 'maxRunningPerOrg',
    label: 'Running environments in the organization',
    kind: 'number',
    hint: 'Empty: no limit.',
  },
  {
    rule: 'idleStopAfterMin',
    label: 'Stop idle environments after (minutes)',
    kind: 'number',
    hint: 'Empty: never.',
  },
  {
    rule: 'maxLifetimeMin',
    label: 'Maximum lifetime (minutes)',
    kind: 'number',
    hint: 'Empty: no limit.',
  },
  { rule: 'projects', label: 'Projects', kind: 'json', hint: jsonHint },
  { rule: 'egress', label: 'Egress', kind: 'json', hint: jsonHint },
  { rule: 'agents', label: 'Agent rules', kind: 'json', hint: jsonHint },
];

/**
 * Changes the policy: each field starts with the rule in force, and only the fields changed are
 * sent. Whether the caller may change it is the API's to say; a refusal is shown in its words.
 */
export function PolicyForm({ policy, busy, error, notice, onSave }: PolicyFormProps) {
  const id = useId();
  const [problem, setProblem] = useState<string | null>(null);
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const read = policyPatchOf(policy, new FormData(event.currentTarget));
    setProblem(read.ok ? null : read.message);
    if (read.ok) onSave(read.patch, read.changed);
  };
  return (
    <form className="policy-form" onSubmit={submit} aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>Change the policies</h3>
      <label htmlFor={`${id}-level`}>Widest port sharing</label>
      <select id={`${id}-level`} name="maxPortShareLevel" defaultValue={policy.maxPortShareLevel}>
        {(Object.keys(portShareText) as PortShareLevel[]).map((level) => (
          <option key={level} value={level}>
            {portShareText[level]}
          </option>
        ))}
      </select>
      <div className="check">
        <input
          id={`${id}-break-glass`}
          name="breakGlass"
          type="checkbox"
          defaultChecked={policy.breakGlass ?? false}
        />
        <label htmlFor={`${id}-break-glass`}>
          Break-glass: owners and admins may open others&apos; environments with a reason
        </label>
      </div>
      {fields.map(({ rule, label, kind, hint }) => (
        <div className="field" key={rule}>
          <label htmlFor={`${id}-${rule}`}>{label}</label>
          <span className="hint" id={`${id}-${rule}-hint`}>
            {hint}
          </span>
          {kind === 'number' ? (
            <input
              id={`${id}-${rule}`}
              name={rule}
              type="number"
              min={0}
              step={1}
              defaultValue={fieldTextOf(policy, rule)}
              aria-describedby={`${id}-${rule}-hint`}
            />
          ) : (
            <textarea
              id={`${id}-${rule}`}
              name={rule}
              rows={kind === 'json' ? 6 : 3}
              spellCheck={false}
              defaultValue={fieldTextOf(policy, rule)}
              aria-describedby={`${id}-${rule}-hint`}
            />
          )}
        </div>
      ))}
      <button type="submit" disabled={busy}>
        {busy ? 'Saving…' : 'Save policies'}
      </button>
      {problem ? <ErrorNote>{problem}</ErrorNote> : null}
      {error ? <ErrorNote>The policy was not changed: {error}</ErrorNote> : null}
      {notice && !problem ? <p role="status">{notice}</p> : null}
    </form>
  );
}
