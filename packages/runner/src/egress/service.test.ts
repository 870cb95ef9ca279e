import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { DesiredEnvironment, EgressRule } from '@hangar/api';
import pino from 'pino';
import { EgressService } from './service.js';

function desired(id: string, overrides: Partial<DesiredEnvironment> = {}): DesiredEnvironment {
  return {
    id,
    orgId: 'org_aaaaaaaaaaaaaaaa',
    ownerId: 'usr_aaaaaaaaaaaaaaaa',
    name: 'egress',
    generation: 1,
    spec: { desiredPhase: 'running', class: 'small' },
    ports: [],
    ...overrides,
  };
}

async function setup() {
  const dir = await mkdtemp(join(tmpdir(), 'hangar-egress-service-'));
  const service = new EgressService({
    audit: { append: async () => undefined },
    logger: pino({ level: 'silent' }),
    socketPathOf: (id) => join(dir, id, 'egress', 'proxy.sock'),
    lookup: async () => {
      throw Object.assign(new Error('no DNS in this test'), { code: 'ENOTFOUND' });
    },
  });
  return {
    dir,
    service,
    socket: (id: string) => join(dir, id, 'egress', 'proxy.sock'),
    cleanup: async () => {
      await service.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const open: EgressRule = { mode: 'open' };
const narrow: EgressRule = { mode: 'allowlist', allow: [{ host: 'a.example.test' }] };

test('an environment wanted running gets a proxy socket and its class rule', async () => {
  const { service, socket, cleanup } = await setup();
  try {
    await service.apply(desired('env_one', { egress: open }));
    assert.ok(existsSync(socket('env_one')));
    assert.equal((await stat(join(socket('env_one'), '..'))).mode & 0o777, 0o710);
    assert.deepEqual(
      service.rulesOf('env_one').map((rule) => [rule.policy, rule.mode]),
      [['egress (class small)', 'open']],
    );
    await service.apply(desired('env_one'));
    assert.deepEqual(service.rulesOf('env_one'), [], 'no rule: the proxy denies everything');
    await service.apply(
      desired('env_one', { spec: { ...desired('env_one').spec, desiredPhase: 'stopped' } }),
    );
    assert.equal(existsSync(socket('env_one')), false);
  } finally {
    await cleanup();
  }
});

test('while agent tasks run, their rules apply instead, each one of them', async () => {
  const { service, cleanup } = await setup();
  try {
    await service.apply(desired('env_two', { egress: open }));
    service.setTaskRule('env_two', {
      taskId: 'agt_1',
      ownerId: 'usr_b',
      rule: narrow,
      credential: 'c1',
    });
    service.setTaskRule('env_two', {
      taskId: 'agt_2',
      ownerId: 'usr_b',
      rule: open,
      credential: 'c2',
      policy: 'egress.agents (task 2)',
    });
    assert.deepEqual(
      service.rulesOf('env_two').map((rule) => [rule.policy, rule.mode]),
      [
        ['egress.agents', 'allowlist'],
        ['egress.agents (task 2)', 'open'],
      ],
    );
    service.clearTaskRule('env_two', 'agt_1');
    service.clearTaskRule('env_two', 'agt_2');
    service.clearTaskRule('env_two', 'agt_unknown');
    assert.deepEqual(
      service.rulesOf('env_two').map((rule) => rule.mode),
      ['open'],
    );
  } finally {
    await cleanup();
  }
});

test('a welcome without an environment closes its proxy; a delete forgets it', async () => {
  const { service, socket, cleanup } = await setup();
  try {
    await service.replaceAll([desired('env_a', { egress: open }), desired('env_b')]);
    assert.ok(existsSync(socket('env_a')) && existsSync(socket('env_b')));
    await service.replaceAll([desired('env_b')]);
    assert.equal(existsSync(socket('env_a')), false);
    assert.deepEqual(service.rulesOf('env_a'), []);
    await service.apply(
      desired('env_b', { spec: { ...desired('env_b').spec, desiredPhase: 'deleted' } }),
    );
    assert.equal(existsSync(socket('env_b')), false);
  } finally {
    await cleanup();
  }
});

test('the agent proxy URL carries the credential, escaped', async () => {
  const { service, cleanup } = await setup();
  try {
    assert.equal(service.proxyUrlFor('a/b:c@d'), 'http://agent:a%2Fb%3Ac%40d@127.0.0.1:3128');
  } finally {
    await cleanup();
  }
});
