import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * How the runner knows it talks to the envd of the environment it means. At every boot the
 * runner draws a random secret for the environment and hands it to that sandbox's envd only
 * (its configuration file, mounted read-only into that sandbox alone; other sandboxes have their
 * own mount and pid namespaces and cannot reach it). On every connection the runner sends a
 * fresh nonce and accepts nothing but `proof(secret, nonce, environmentId)` in answer.
 *
 * What this does not stop: a process inside an environment runs as the same user as its envd
 * and can read the same secret, so it can answer in place of its own environment's envd. That
 * is accepted: such a process can already run anything in that environment, and it still cannot
 * pass for any other environment.
 */

/** Size of the per-boot secret, in bytes (its configuration holds it as hex). */
export const ENVD_SECRET_BYTES = 32;

/** HMAC-SHA256 under `secret` of the nonce followed by the UTF-8 environment id. */
export function challengeProof(
  secret: Uint8Array,
  nonce: Uint8Array,
  environmentId: string,
): Buffer {
  return createHmac('sha256', secret)
    .update(nonce)
    .update(Buffer.from(environmentId, 'utf8'))
    .digest();
}

/** Compares a proof that arrived with the expected one in constant time. */
export function proofMatches(expected: Buffer, received: Uint8Array): boolean {
  return received.length === expected.length && timingSafeEqual(expected, received);
}
