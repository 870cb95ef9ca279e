import type { SecretDelivery } from '../org-types.js';

/**
 * Why a value cannot be delivered the way its secret asks, or undefined. The control plane
 * never sees values, so the page checks before it seals (and the runner after it opens), in the
 * words of packages/api's secretValueProblem: a variable cannot hold a NUL byte, and a git
 * credential is one line (one trailing line break is dropped).
 */
export function valueProblem(delivery: SecretDelivery, value: Uint8Array): string | undefined {
  if (delivery === 'env' && value.includes(0)) {
    return (
      'its value holds a NUL byte, which no environment variable can hold; deliver it as a ' +
      'file (/run/secrets/NAME) instead'
    );
  }
  if (delivery === 'git') {
    const text = new TextDecoder().decode(value).replace(/\r?\n$/, '');
    if (/[\r\n\0]/.test(text)) {
      return 'its value must be one line (a token or password) to be a git credential';
    }
  }
  return undefined;
}
