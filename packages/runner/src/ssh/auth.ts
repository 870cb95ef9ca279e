import { createHash } from 'node:crypto';
import ssh2 from 'ssh2';
import { verifyAccessToken, type AccessClaims } from '@hangar/api';
import type { SshDeps } from './deps.js';

/** At most this many different keys per connection, as OpenSSH's `MaxAuthTries`. */
export const maxKeysPerConnection = 6;

const environmentIdPattern = /^env_[0-9a-z]{8,40}$/;
const environmentNamePattern = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** The largest key blob sent on (a 16384-bit RSA key is about 2 KiB). */
const maxKeyBytes = 8192;

/** What one verified login rests on: the grant the control plane signed for this key. */
export interface SshGrant {
  claims: AccessClaims;
  environmentId: string;
  keyType: string;
  /** `SHA256:…`, as `ssh-keygen -l` prints it. */
  fingerprint: string;
}

/** One authentication request as the client sent it (what ssh2's context carries). */
export interface AuthAttempt {
  method: string;
  username: string;
  key?: { algo: string; data: Buffer };
  /** Absent while the client only asks whether a key would do (the query phase). */
  signature?: Buffer;
  /** The signed data: session id and request, built by ssh2. */
  blob?: Buffer;
  /** `sha256` or `sha512` for RSA keys signed with rsa-sha2-*. */
  hashAlgo?: string;
}

export type AuthDecision =
  | { kind: 'reject'; reason: string }
  /** The query phase: the key would do; the client signs next. */
  | { kind: 'key-acceptable' }
  | { kind: 'accept'; grant: SshGrant };

type KeyDecision = { ok: true; grant: SshGrant } | { ok: false; reason: string };

/** A key offered in the query phase and not yet signed with: counted, not yet decided. */
const pendingProof: Promise<KeyDecision> = Promise.resolve({
  ok: false,
  reason: 'the key was offered but never signed with',
});

export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

const tokenReasons = {
  malformed: 'the control plane sent a malformed grant',
  bad_signature: 'the grant was not signed by the control plane this runner trusts',
  expired: 'the grant has already expired; check the clocks of the runner and the control plane',
  wrong_audience: 'the grant is for another runner',
} as const;

/**
 * The authentication of one SSH connection: public keys only. The query phase accepts any
 * well-formed key; once the client signs with one and the signature verifies, the control plane
 * is asked whether the key's owner may open the environment named by the username, and the
 * signed grant it returns is checked like any other (signature, audience, operation,
 * environment). The answer is kept for the connection, so each key costs one question. A refused key is audited once, by fingerprint;
 * the key itself is never recorded.
 */
export class ConnectionAuthenticator {
  private readonly decisions = new Map<string, Promise<KeyDecision>>();

  constructor(
    private readonly deps: Pick<SshDeps, 'identity' | 'audit' | 'logger' | 'authorize'>,
    private readonly connection: { sourceAddress: string; requestId: string },
  ) {}

  /** True once the client has offered more keys than a connection may. */
  get exhausted(): boolean {
    return this.decisions.size > maxKeysPerConnection;
  }

  async decide(attempt: AuthAttempt): Promise<AuthDecision> {
    if (attempt.method !== 'publickey' || !attempt.key) {
      return { kind: 'reject', reason: `${attempt.method} authentication is not offered` };
    }
    const { username } = attempt;
    if (!environmentIdPattern.test(username) && !environmentNamePattern.test(username)) {
      return { kind: 'reject', reason: 'the username is not an environment id or name' };
    }
    if (attempt.key.data.length > maxKeyBytes) {
      return { kind: 'reject', reason: 'the key is too large' };
    }
    const parsed = ssh2.utils.parseKey(attempt.key.data);
    if (parsed instanceof Error || parsed.type !== attempt.key.algo) {
      return { kind: 'reject', reason: `keys of type ${attempt.key.algo} are not accepted` };
    }
    const fingerprint = fingerprintOf(attempt.key.data);
    const cacheKey = `${parsed.type} ${attempt.key.data.toString('base64')}`;
    if (!this.decisions.has(cacheKey) && this.decisions.size >= maxKeysPerConnection) {
      this.decisions.set(cacheKey, Promise.resolve({ ok: false, reason: 'too many keys' }));
      return { kind: 'reject', reason: 'too many keys offered on one connection' };
    }
    if (!attempt.signature) {
      // The query phase: any well-formed key would do. The control plane is asked only once the
      // client has proved it holds the private key, so a public key alone mints no grant and
      // tells nothing about whose key it is or which environments exist.
      this.decisions.set(cacheKey, this.decisions.get(cacheKey) ?? pendingProof);
      return { kind: 'key-acceptable' };
    }
    const verified = attempt.blob
      ? parsed.verify(attempt.blob, attempt.signature, attempt.hashAlgo)
      : false;
    if (verified !== true) {
      await this.deny(attempt.username, fingerprint, parsed.type, 'the signature does not verify');
      return { kind: 'reject', reason: 'the signature does not verify' };
    }
    let decision = this.decisions.get(cacheKey);
    if (!decision || decision === pendingProof) {
      decision = this.ask(attempt.username, parsed.type, attempt.key.data, fingerprint);
      this.decisions.set(cacheKey, decision);
    }
    const result = await decision;
    if (!result.ok) return { kind: 'reject', reason: result.reason };
    return { kind: 'accept', grant: result.grant };
  }

  private async ask(
    username: string,
    keyType: string,
    blob: Buffer,
    fingerprint: string,
  ): Promise<KeyDecision> {
    const refuse = async (reason: string, claims?: AccessClaims): Promise<KeyDecision> => {
      await this.deny(username, fingerprint, keyType, reason, claims);
      return { ok: false, reason };
    };
    let answer: Awaited<ReturnType<SshDeps['authorize']>>;
    try {
      answer = await this.deps.authorize({
        username,
        keyType,
        publicKey: blob.toString('base64'),
        sourceAddress: this.connection.sourceAddress,
      });
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      return refuse(`the control plane could not be asked: ${why}`);
    }
    if (!answer.ok) return refuse(`${answer.code}: ${answer.message}`);
    const identity = this.deps.identity();
    const check = verifyAccessToken(answer.token, identity.controlPlanePublicKey, {
      audience: identity.runnerId,
    });
    if (!check.ok) return refuse(tokenReasons[check.reason]);
    const { claims } = check;
    if (!claims.ops.includes('ssh')) return refuse('the grant does not allow ssh', claims);
    if (claims.env !== answer.environmentId) {
      return refuse('the grant is for another environment than the answer names', claims);
    }
    if (environmentIdPattern.test(username) && username !== claims.env) {
      return refuse('the grant is for another environment than the username names', claims);
    }
    return { ok: true, grant: { claims, environmentId: claims.env, keyType, fingerprint } };
  }

  private async deny(
    username: string,
    fingerprint: string,
    keyType: string,
    reason: string,
    claims?: AccessClaims,
  ): Promise<void> {
    this.deps.logger.info(
      { username: username.slice(0, 100), fingerprint, reason },
      'ssh key refused',
    );
    await this.deps.audit
      .append({
        actor: claims?.act ?? { kind: 'system', id: 'anonymous' },
        action: 'access.denied',
        target: { kind: 'environment', id: (claims?.env ?? username).slice(0, 200) },
        outcome: 'denied',
        requestId: this.connection.requestId,
        sourceAddress: this.connection.sourceAddress,
        details: {
          operation: 'ssh',
          reason: reason.slice(0, 200),
          keyFingerprint: fingerprint,
          keyType,
          username: username.slice(0, 100),
        },
      })
      .catch((error: unknown) =>
        this.deps.logger.error({ err: error }, 'auditing a refused ssh key failed'),
      );
  }
}
