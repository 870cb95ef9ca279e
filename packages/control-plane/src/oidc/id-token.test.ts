import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import type { ProviderMetadata } from './discovery.js';
import { verifyIdToken } from './id-token.js';
import { SignInRefused } from './refusal.js';

let server: Server;
let metadata: ProviderMetadata;
let signingKey: CryptoKey;
let strangerKey: CryptoKey;
const clientId = 'hangar';
const nonce = 'the-nonce-of-this-sign-in';

/** A JWKS endpoint of the test's own on 127.0.0.1:0, holding the key with kid "k1". */
before(async () => {
  signingKey = (await generateKeyPair('RS256', { extractable: true })).privateKey;
  strangerKey = (await generateKeyPair('RS256', { extractable: true })).privateKey;
  const { kty, n, e } = await exportJWK(signingKey);
  const publicJwk = { kty, n, e };
  const jwks = JSON.stringify({ keys: [{ ...publicJwk, kid: 'k1', alg: 'RS256', use: 'sig' }] });
  server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' }).end(jwks);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  metadata = {
    issuer: `${base}/issuer`,
    authorizationEndpoint: `${base}/auth`,
    tokenEndpoint: `${base}/token`,
    jwksUri: `${base}/jwks`,
    idTokenAlgorithms: ['RS256'],
  };
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function claims(extra: JWTPayload = {}): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: metadata.issuer,
    aud: clientId,
    sub: 'subject-1',
    iat: now,
    exp: now + 300,
    nonce,
    ...extra,
  };
}

async function signed(payload: JWTPayload, options: { kid?: string; key?: CryptoKey } = {}) {
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'RS256', kid: options.kid ?? 'k1' })
    .sign(options.key ?? signingKey);
}

async function refusalOf(token: string, expectedNonce: string | undefined = nonce) {
  try {
    await verifyIdToken(token, {
      metadata,
      clientId,
      ...(expectedNonce !== undefined ? { nonce: expectedNonce } : {}),
    });
  } catch (error) {
    assert.ok(error instanceof SignInRefused, String(error));
    return error.reason;
  }
  assert.fail('the token was accepted');
}

describe('ID token verification against a real JWKS endpoint', () => {
  test('a good token verifies and yields its subject and claims', async () => {
    const verified = await verifyIdToken(await signed(claims({ email: 'a@example.test' })), {
      metadata,
      clientId,
      nonce,
    });
    assert.equal(verified.subject, 'subject-1');
    assert.equal(verified.claims.email, 'a@example.test');
  });

  test('each broken property is refused with the reason that names it', async () => {
    const now = Math.floor(Date.now() / 1000);
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${Buffer.from(JSON.stringify(claims())).toString('base64url')}.`;
    const cases: [string, Promise<string>][] = [
      ['foreign issuer', signed(claims({ iss: 'http://127.0.0.1:1/other' }))],
      ['expired', signed(claims({ iat: now - 7200, exp: now - 3600 }))],
      ['audience', signed(claims({ aud: 'someone-else' }))],
      ['authorized party', signed(claims({ aud: [clientId, 'other'], azp: 'other' }))],
      ['bad nonce', signed(claims({ nonce: 'another nonce' }))],
      ['algorithm', Promise.resolve(unsigned)],
      ['unknown key', signed(claims(), { kid: 'k2' })],
      ['bad signature', signed(claims(), { key: strangerKey })],
      ['not yet valid', signed(claims({ iat: now + 3600, exp: now + 7200 }))],
      ['malformed token', Promise.resolve('not.a-jwt')],
    ];
    for (const [reason, token] of cases) {
      assert.equal(await refusalOf(await token), reason, reason);
    }
  });

  test('a missing nonce is refused when the sign-in sent one, and fine when it sent none', async () => {
    const rest = claims();
    delete rest.nonce;
    assert.equal(await refusalOf(await signed(rest)), 'bad nonce');
    const verified = await verifyIdToken(await signed(rest), { metadata, clientId });
    assert.equal(verified.subject, 'subject-1');
  });
});
