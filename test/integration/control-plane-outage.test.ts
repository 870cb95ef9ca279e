import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { AuditRecord } from '@hangar/api';
import { execWith, startSystem, type System } from '../support/system.js';

let system: System;

before(async () => {
  system = await startSystem();
});
after(async () => {
  await system.close();
});

async function execRecords(stage: 'start' | 'end' = 'end'): Promise<AuditRecord[]> {
  const { body } = await system.api<{ records: AuditRecord[] }>('GET', '/v1/audit/export');
  return body.records.filter(
    (record) => record.action === 'environment.exec' && record.details.stage === stage,
  );
}

test('while the control plane is down, environments stay usable and audit records queue', async () => {
  const environment = await system.createAndWait({ name: 'outage' });
  const grant = await system.grant(environment.id, ['exec']);
  await execWith(grant, environment.id, ['true']);
  for (let i = 0; i < 50 && (await execRecords()).length < 1; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal((await execRecords()).length, 1);

  await system.stopControlPlane();
  for (let i = 0; i < 5; i += 1) {
    const result = await execWith(grant, environment.id, ['sh', '-c', `echo offline-${i}`]);
    assert.equal(result.out.toString(), `offline-${i}\n`);
  }
  await system.startControlPlaneAgain();
  for (let i = 0; i < 100 && (await execRecords()).length < 6; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const records = await execRecords();
  assert.equal(records.length, 6, 'none lost and none twice');
  assert.equal((await execRecords('start')).length, 6, 'each command was recorded as it began');
  const verify = await system.api<{ records: AuditRecord[] }>('GET', '/v1/audit/export');
  assert.ok(verify.body.records.length > 6);

  await system.restartControlPlane();
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.equal((await execRecords()).length, 6, 'a reconnect resends nothing twice');
  assert.equal((await execRecords('start')).length, 6);
  const after = await system.api<{ status: { phase: string } }>(
    'GET',
    `/v1/environments/${environment.id}`,
  );
  assert.equal(after.body.status.phase, 'running');
});
