import assert from 'node:assert/strict';
import { test } from 'node:test';
import { auditActions } from '@hangar/api';
import { prepareEntry, type AuditEntry } from './audit-entry.js';

function entry(action: string): AuditEntry {
  return {
    orgId: 'org_aaaaaaaaaaaaaaaa',
    actor: { kind: 'user', id: 'usr_aaaaaaaaaaaaaaaa' },
    action,
    target: null,
    outcome: 'success',
    requestId: 'req_1',
    sourceAddress: '127.0.0.1',
    details: {},
  };
}

test('every action the audit log knows can be recorded, and only well-formed names', () => {
  for (const action of auditActions) assert.equal(prepareEntry(entry(action)).action, action);
  for (const action of [
    'create',
    'Environment.create',
    'ssh-key.',
    '-key.add',
    'a.b-',
    'a.-b',
    'a.b--c',
    'a..b',
  ]) {
    assert.throws(() => prepareEntry(entry(action)), /dotted lower-case name/, action);
  }
});
