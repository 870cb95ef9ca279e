import { useState } from 'react';
import { useApp } from '../../app-context.js';
import { resultOf } from '../../client.js';
import { useLoad } from '../../load.js';
import type { PolicyPatch } from '../../org-types.js';
import { PolicyView } from '../../views/org/PolicyView.js';

/** Policies: every rule shown, changed through the form; a refusal shown in the API's words. */
export function PolicySection() {
  const { client } = useApp();
  const { state, reload } = useLoad(() => resultOf(client.GET('/v1/org/policy')), 'policy');
  const [edit, setEdit] = useState({
    busy: false,
    error: null as string | null,
    notice: null as string | null,
  });

  const onSave = async (patch: PolicyPatch, changed: string[]) => {
    setEdit({ busy: true, error: null, notice: null });
    const result = await resultOf(client.PATCH('/v1/org/policy', { body: patch }));
    setEdit({
      busy: false,
      error: result.ok ? null : result.message,
      notice: result.ok ? `Saved: ${changed.join(', ')}.` : null,
    });
    await reload();
  };

  return (
    <PolicyView
      policy={state}
      edit={{ ...edit, onSave: (patch, changed) => void onSave(patch, changed) }}
    />
  );
}
