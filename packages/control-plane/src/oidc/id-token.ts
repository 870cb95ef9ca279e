import {
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import type { ProviderMetadata } from './discovery.js';
import { SignInRefused } from './refusal.js';

/** How far the provider's clock may be from ours, in seconds. */
export const clockSkewS = 60;

/** The claims of an ID token that passed every check. */
export interface VerifiedIdToken {
  subject: string;
  claims: JWTPayload;
}

const keySets = new Map<string, JWTVerifyGetKey>();

/** The provider's signing keys, fetched from its JWKS URI and kept (refetched for a new kid). */
export function keySetFor(jwksUri: string): JWTVerifyGetKey {
  let keys = keySets.get(jwksUri);
  if (!keys) {
    keys = createRemoteJWKSet(new URL(jwksUri), {
      timeoutDuration: 10_000,
      cooldownDuration: 30_000,
      cacheMaxAge: 10 * 60_000,
    });
    keySets.set(jwksUri, keys);
  }
  return keys;
}

export interface IdTokenExpectations {
  metadata: ProviderMetadata;
  clientId: string;
  /** The nonce the sign-in sent; absent for token exchange, where there is none. */
  nonce?: string;
  keys?: JWTVerifyGetKey;
  now?: number;
}

/**
 * Checks an ID token as OpenID Connect Core 3.1.3.7 asks: an asymmetric algorithm the provider
 * announced (never `none`), the issuer exactly, the client among the audiences (and as `azp`
 * when it is there or when there are several audiences), the signature against the provider's
 * JWKS, expiry and issue time within `clockSkewS`, and the nonce. Each failure is a
 * `SignInRefused` whose reason names the check.
 */
export async function verifyIdToken(
  idToken: string,
  expected: IdTokenExpectations,
): Promise<VerifiedIdToken> {
  const { metadata, clientId } = expected;
  let alg: unknown;
  let unverified: JWTPayload;
  try {
    alg = decodeProtectedHeader(idToken).alg;
    unverified = decodeJwt(idToken);
  } catch (error) {
    throw new SignInRefused('malformed token', 'the ID token is not a signed JWT', {
      cause: error,
    });
  }
  if (typeof alg !== 'string' || !metadata.idTokenAlgorithms.includes(alg)) {
    throw new SignInRefused(
      'algorithm',
      `the ID token is signed with ${JSON.stringify(alg)}, which the provider does not announce ` +
        `(${metadata.idTokenAlgorithms.join(', ')})`,
    );
  }
  if (unverified.iss !== metadata.issuer) {
    throw new SignInRefused(
      'foreign issuer',
      `the ID token comes from ${JSON.stringify(unverified.iss)}, not from the organization's ` +
        `provider ${metadata.issuer}`,
    );
  }
  let payload: JWTPayload;
  try {
    const verified = await jwtVerify(idToken, expected.keys ?? keySetFor(metadata.jwksUri), {
      issuer: metadata.issuer,
      audience: clientId,
      algorithms: metadata.idTokenAlgorithms,
      clockTolerance: clockSkewS,
      requiredClaims: ['sub', 'exp', 'iat'],
      ...(expected.now !== undefined ? { currentDate: new Date(expected.now) } : {}),
    });
    payload = verified.payload;
  } catch (error) {
    throw refusalOf(error);
  }
  checkIssuedAt(payload, expected.now ?? Date.now());
  checkAuthorizedParty(payload, clientId);
  if (expected.nonce !== undefined && payload.nonce !== expected.nonce) {
    throw new SignInRefused('bad nonce', 'the ID token does not carry the nonce of this sign-in');
  }
  if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 255) {
    throw new SignInRefused('malformed token', 'the ID token has no usable subject (sub)');
  }
  return { subject: payload.sub, claims: payload };
}

function checkIssuedAt(payload: JWTPayload, now: number): void {
  const iat = payload.iat;
  if (typeof iat !== 'number' || iat * 1000 > now + clockSkewS * 1000) {
    throw new SignInRefused('not yet valid', 'the ID token is issued in the future');
  }
}

function checkAuthorizedParty(payload: JWTPayload, clientId: string): void {
  const several = Array.isArray(payload.aud) && payload.aud.length > 1;
  if ((several || payload.azp !== undefined) && payload.azp !== clientId) {
    throw new SignInRefused(
      'authorized party',
      'the ID token was issued to another client (azp); check the client id',
    );
  }
}

function refusalOf(error: unknown): SignInRefused {
  const options = { cause: error };
  if (error instanceof errors.JWTExpired) {
    return new SignInRefused('expired', 'the ID token has expired', options);
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'aud') {
      return new SignInRefused(
        'audience',
        "the ID token is for another client (aud); check the organization's client id",
        options,
      );
    }
    if (error.claim === 'iss') {
      return new SignInRefused('foreign issuer', 'the ID token comes from another issuer', options);
    }
    if (error.claim === 'nbf' || error.claim === 'iat') {
      return new SignInRefused('not yet valid', 'the ID token is not valid yet', options);
    }
    return new SignInRefused('malformed token', `the ID token lacks ${error.claim}`, options);
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return new SignInRefused(
      'algorithm',
      'the ID token is signed with a refused algorithm',
      options,
    );
  }
  if (
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKSMultipleMatchingKeys
  ) {
    return new SignInRefused(
      'unknown key',
      "the ID token is signed with a key the provider's JWKS does not hold",
      options,
    );
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return new SignInRefused('bad signature', 'the ID token signature does not verify', options);
  }
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) {
    return new SignInRefused('provider error', "the provider's JWKS could not be read", options);
  }
  return new SignInRefused('malformed token', 'the ID token could not be verified', options);
}
