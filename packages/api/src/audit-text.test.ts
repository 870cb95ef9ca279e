import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  auditLimits,
  droppedDetailsKey,
  storableAuditDetails,
  storableAuditFields,
  storableAuditText,
  unstorableTextReason,
} from './audit-text.js';

const poison = 'x\u0000y\u0007z\u001b[31m\n\u0085\u202e\ud800end\udc00';

test('unsafe characters become escapes that are storable and visible', () => {
  assert.equal(unstorableTextReason(poison), 'contains a NUL character');
  assert.equal(unstorableTextReason('a\ud800'), 'is not well-formed Unicode');
  const clean = storableAuditText(poison, 1000);
  assert.equal(clean, 'x\\u0000y\\u0007z\\u001b[31m\\u000a\\u0085\\u202e\\ud800end\\udc00');
  assert.equal(unstorableTextReason(clean), undefined);
  assert.equal(storableAuditText(clean, 1000), clean, 'applying it twice changes nothing');
  assert.equal(storableAuditText('café 😀 ok', 100), 'café 😀 ok', 'whole characters stay');
});

test('long text is cut to the limit, never inside a surrogate pair', () => {
  assert.equal(storableAuditText('abcdef', 4), 'abc…');
  const emoji = '😀'.repeat(10);
  for (let limit = 1; limit <= 21; limit += 1) {
    const cut = storableAuditText(emoji, limit);
    assert.ok(cut.length <= limit, `at most ${limit} units`);
    assert.equal(unstorableTextReason(cut), undefined, `no half pair at ${limit}`);
  }
  const escapedPast = storableAuditText('\u0000'.repeat(400), auditLimits.targetId);
  assert.equal(escapedPast.length, auditLimits.targetId);
});

test('details keep at most the allowed members and say how many were dropped', () => {
  const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, i]));
  const kept = storableAuditDetails(many, 31);
  assert.equal(Object.keys(kept).length, 31);
  assert.equal(kept[droppedDetailsKey], 10);
  assert.equal(kept.k29, 29);
  assert.equal(kept.k30, undefined);

  const odd = storableAuditDetails({
    '': 'empty name',
    ['k'.repeat(100)]: 'long name',
    'a\u0000': 1,
    'a\\u0000': 2,
    nan: Number.NaN,
    inf: Number.POSITIVE_INFINITY,
    skipped: undefined,
    text: 'p'.repeat(5000),
    ['__proto__']: 'own member',
  });
  assert.equal(odd['(empty)'], 'empty name');
  assert.equal(odd[`${'k'.repeat(63)}…`], 'long name');
  assert.equal(odd['a\\u0000'], 1, 'the first of two names that become one is kept');
  assert.equal(odd[droppedDetailsKey], 1);
  assert.equal(odd.nan, 'NaN');
  assert.equal(odd.inf, 'Infinity');
  assert.ok(!('skipped' in odd));
  assert.equal((odd.text as string).length, auditLimits.detailText);
  assert.ok(Object.hasOwn(odd, '__proto__'));
  assert.deepEqual(storableAuditDetails({ nested: { a: 1 } }), { nested: { a: 1 } });
});

test('every free-text field of a record is made storable', () => {
  const record = storableAuditFields(
    {
      actor: { kind: 'system', id: `anon${poison}`, onBehalfOf: 'u\u0000' },
      action: 'access.denied',
      target: { kind: 'environment', id: `x\u0000y${'z'.repeat(300)}` },
      outcome: 'denied',
      requestId: 'r\u0000',
      sourceAddress: '::1\n',
      details: { path: '/etc/\u0000passwd' },
    },
    { maxDetailMembers: 31 },
  );
  const texts = [
    record.actor.id,
    record.actor.onBehalfOf ?? '',
    record.target?.kind ?? '',
    record.target?.id ?? '',
    record.requestId,
    record.sourceAddress,
    String(record.details.path),
  ];
  for (const text of texts) assert.equal(unstorableTextReason(text), undefined, text);
  assert.equal(record.target?.id.length, auditLimits.targetId);
  assert.equal(record.details.path, '/etc/\\u0000passwd');
  assert.equal(record.action, 'access.denied');
  assert.equal(record.outcome, 'denied');
});
