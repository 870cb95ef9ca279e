import { HangarError } from '@hangar/api';

/** Why a sign-in was refused, as the audit record's `details.reason` says it. */
export type SignInRefusalReason =
  | 'not configured'
  | 'foreign issuer'
  | 'expired'
  | 'not yet valid'
  | 'bad nonce'
  | 'audience'
  | 'authorized party'
  | 'algorithm'
  | 'unknown key'
  | 'bad signature'
  | 'malformed token'
  | 'domain not allowed'
  | 'claim missing'
  | 'user removed'
  | 'pkce mismatch'
  | 'unknown login'
  | 'login expired'
  | 'login used'
  | 'provider error'
  | 'access denied'
  | 'token exchange off'
  | 'token replayed';

/**
 * A sign-in that must not go on. The message says what went wrong in words a person can act on
 * and holds nothing secret; the reason is what the audit record keeps.
 */
export class SignInRefused extends HangarError {
  readonly reason: SignInRefusalReason;
  /** The user the refusal is about, when one is known (a removed user). */
  readonly userId: string | undefined;

  constructor(
    reason: SignInRefusalReason,
    message: string,
    options: { cause?: unknown; userId?: string } = {},
  ) {
    super('unauthenticated', message, { cause: options.cause });
    this.name = 'SignInRefused';
    this.reason = reason;
    this.userId = options.userId;
  }
}
