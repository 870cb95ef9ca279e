import { randomBytes } from 'node:crypto';

const alphabet = '0123456789abcdefghijklmnopqrstuvwxyz';

/** A random identifier with a readable kind prefix, such as `env_3k9x…`. */
export function newId(prefix: IdPrefix, length = 16): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const byte of bytes) out += alphabet[byte % alphabet.length];
  return `${prefix}_${out}`;
}

export type IdPrefix =
  | 'org'
  | 'usr'
  | 'tok'
  | 'run'
  | 'env'
  | 'req'
  | 'enr'
  | 'grt'
  | 'aud'
  | 'ses'
  | 'prc'
  | 'key'
  | 'lgn'
  | 'sec'
  | 'sgk'
  | 'agt';

export const idPattern = '^[a-z]{3}_[0-9a-z]{8,40}$';
