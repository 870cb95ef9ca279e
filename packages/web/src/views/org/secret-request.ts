import type { SecretDelivery, SecretScope } from '../../org-types.js';
import { utf8 } from '../../secrets/bytes.js';
import type { SecretRequest } from '../../secrets/set-secret.js';
import { deliveryText, scopeText } from './secret-text.js';

export type SecretRequestRead =
  { ok: true; request: SecretRequest } | { ok: false; message: string };

const isScope = (text: string): text is SecretScope => Object.hasOwn(scopeText, text);
const isDelivery = (text: string): text is SecretDelivery => Object.hasOwn(deliveryText, text);

/**
 * Reads the set-secret form. The target defaults to the name for a variable and is the name for
 * a model key, as `hangar secret set` does; a variable, git or model value loses one trailing
 * line break (a file keeps its bytes). Everything else (names, targets, the value's rules) is
 * checked by the flow and the API, which say what is wrong.
 */
export function secretRequestOf(form: FormData): SecretRequestRead {
  const text = (name: string) => {
    const value = form.get(name);
    return typeof value === 'string' ? value : '';
  };
  const name = text('name').trim();
  const scope = text('scope');
  const delivery = text('delivery');
  if (!name) return { ok: false, message: 'Give the secret a name.' };
  if (!isScope(scope) || !isDelivery(delivery)) {
    return { ok: false, message: 'Pick a scope and a delivery.' };
  }
  const project = text('project').trim();
  if (scope === 'project' && !project) {
    return { ok: false, message: 'Name the project a project secret is for.' };
  }
  const given = text('target').trim();
  const target = delivery === 'model' ? name : given || (delivery === 'env' ? name : '');
  if (!target) {
    const what = delivery === 'file' ? 'the file path' : 'the git host';
    return { ok: false, message: `Give ${what} the secret is delivered to.` };
  }
  const raw = text('value');
  const value = delivery === 'file' ? raw : raw.replace(/\r?\n$/, '');
  return {
    ok: true,
    request: {
      name,
      scope,
      ...(scope === 'project' ? { project } : {}),
      delivery,
      target,
      value: utf8(value),
      acceptedRunnerKeys: form.getAll('acceptRunnerKey').filter((id) => typeof id === 'string'),
    },
  };
}
