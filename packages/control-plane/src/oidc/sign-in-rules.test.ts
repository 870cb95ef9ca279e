import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JWTPayload } from 'jose';
import { SignInRefused } from './refusal.js';
import type { SignInTarget } from './sign-in.js';
import { checkSignInRules } from './users.js';

function target(name: string, value: string): SignInTarget {
  return {
    orgId: 'org_aaaaaaaaaaaaaaaa',
    config: {
      orgId: 'org_aaaaaaaaaaaaaaaa',
      issuer: 'http://127.0.0.1:1',
      clientId: 'hangar',
      clientSecret: undefined,
      allowedDomains: [],
      requiredClaim: { name, value },
      storeProfile: false,
      defaultRole: 'member',
      tokenExchange: false,
      updatedBy: 'usr_aaaaaaaaaaaaaaaa',
      updatedAt: 0,
    },
    metadata: {
      issuer: 'http://127.0.0.1:1',
      authorizationEndpoint: 'http://127.0.0.1:1/auth',
      tokenEndpoint: 'http://127.0.0.1:1/token',
      jwksUri: 'http://127.0.0.1:1/jwks',
      idTokenAlgorithms: ['RS256'],
    },
  };
}

function refusal(rules: SignInTarget, claims: JWTPayload): SignInRefused | undefined {
  try {
    checkSignInRules(rules, claims);
    return undefined;
  } catch (error) {
    assert.ok(error instanceof SignInRefused);
    return error;
  }
}

test('a required claim matches a boolean or number claim by its JSON text', () => {
  assert.equal(refusal(target('email_verified', 'true'), { email_verified: true }), undefined);
  assert.equal(refusal(target('level', '3'), { level: 3 }), undefined);
  assert.equal(refusal(target('groups', 'dev'), { groups: ['ops', 'dev'] }), undefined);
  assert.equal(refusal(target('flags', 'true'), { flags: [false, true] }), undefined);
  assert.equal(refusal(target('team', 'dev'), { team: 'dev' }), undefined);
  assert.ok(refusal(target('email_verified', 'true'), { email_verified: false }));
  assert.ok(refusal(target('email_verified', 'true'), { email_verified: 'yes' }));
  assert.ok(refusal(target('level', '3'), { level: 3.5 }));
  assert.ok(refusal(target('nested', '{}'), { nested: {} }), 'an object matches nothing');
});

test('the refusal says whether the claim is missing or its value differs', () => {
  const missing = refusal(target('team', 'dev'), { sub: 'a' });
  assert.match(missing?.message ?? '', /lacks the claim team this organization requires/);
  assert.equal(missing?.reason, 'claim missing');
  const differs = refusal(target('email_verified', 'true'), { email_verified: false });
  assert.match(differs?.message ?? '', /has the claim email_verified, but its value differs/);
  assert.doesNotMatch(differs?.message ?? '', /false/, 'the message repeats no claim value');
  const empty = refusal(target('groups', 'dev'), { groups: [] });
  assert.match(empty?.message ?? '', /its value differs/);
});
