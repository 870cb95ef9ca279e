import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Type } from 'typebox';
import { HangarError } from './errors.js';
import { PutOidcConfigBody } from './schemas/auth.js';
import { validator } from './validate.js';

const check = validator(
  Type.Object(
    {
      role: Type.Optional(Type.Enum(['owner', 'admin', 'member'])),
      delivery: Type.Optional(
        Type.Union([Type.Literal('env'), Type.Literal('file'), Type.Literal('git')]),
      ),
      claim: Type.Optional(
        Type.Union([
          Type.Object({ name: Type.String() }, { additionalProperties: false }),
          Type.Null(),
        ]),
      ),
      level: Type.Optional(Type.Union([Type.Literal('off'), Type.Integer()])),
    },
    { additionalProperties: false },
  ),
  'the body',
);

function fieldsOf(value: unknown): Record<string, string> {
  try {
    check(value);
  } catch (error) {
    assert.ok(error instanceof HangarError);
    return Object.fromEntries((error.fields ?? []).map((item) => [item.field, item.message]));
  }
  assert.fail('it was valid');
}

test('enum and union errors list the allowed values', () => {
  assert.deepEqual(fieldsOf({ role: 'superuser' }), {
    role: 'must be one of: owner, admin or member',
  });
  assert.deepEqual(fieldsOf({ delivery: 'disk' }), {
    delivery: 'must be one of: env, file or git',
  });
  assert.deepEqual(fieldsOf({ level: 'loud' }), { level: 'must be one of: off, or an integer' });
  assert.deepEqual(fieldsOf({ claim: 5 }), { claim: 'must be an object or null' });
});

test('a union value of the right kind gets the errors of its own branch', () => {
  assert.deepEqual(fieldsOf({ claim: { name: 'a', extra: 1 } }), {
    'claim.extra': 'is not a known field; remove it',
  });
  assert.deepEqual(fieldsOf({ claim: {} }), { 'claim.name': 'is required' });
});

test('the OpenID settings name a bad domain or claim in words, not a pattern', () => {
  const put = validator(PutOidcConfigBody, 'the body');
  const base = { issuer: 'https://idp.example.test', clientId: 'c' };
  assert.throws(
    () => put({ ...base, allowedDomains: ['Example Test'] }),
    /allowedDomains\.0 must be a lower-case e-mail domain such as example\.com/,
  );
  assert.throws(
    () => put({ ...base, requiredClaim: { name: '9x', value: 'v' } }),
    /requiredClaim\.name must be a claim name/,
  );
  assert.throws(() => put({ ...base, defaultRole: 'owner' }), /must be one of: member or auditor/);
  assert.doesNotThrow(() => put({ ...base, requiredClaim: null }));
});
