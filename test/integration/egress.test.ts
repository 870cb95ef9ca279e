import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { after, before, test } from 'node:test';
import type { AuditRecord, EgressPolicy, Environment } from '@hangar/api';
import { startSystem, type System } from '../support/system.js';

// Every request here goes to a server on 127.0.0.1 of this host, or is refused by the proxy
// before any name is resolved or any connection is made (allow-list misses, mode none, IP
// literals of metadata services). Nothing is sent to any other address.

let system: System;
let environment: Environment;
let web: Server;
let webPort: number;
const served: string[] = [];

before(async () => {
  web = createServer((req, res) => {
    served.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('the egress page\n');
  });
  await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
  webPort = (web.address() as AddressInfo).port;
  system = await startSystem();
  await setEgress({
    default: {
      mode: 'allowlist',
      allow: [
        { host: 'localhost', ports: [webPort] },
        { host: '127.0.0.1', ports: [webPort] },
      ],
      allowPrivate: ['127.0.0.0/8'],
    },
  });
  environment = await system.createAndWait({ name: 'egress' });
});

after(async () => {
  await system.close();
  await new Promise((resolve) => web.close(resolve));
});

async function setEgress(egress: EgressPolicy | null): Promise<void> {
  const { status, body } = await system.api('PATCH', '/v1/org/policy', { egress });
  assert.equal(status, 200, JSON.stringify(body));
}

/** Waits until the runner applies a rule of `mode` (pushed after a policy change). */
async function ruleApplied(mode: string): Promise<void> {
  for (let i = 0; i < 200; i += 1) {
    const rules = system.runner.egress.rulesOf(environment.id);
    if (rules.length > 0 && rules.every((rule) => rule.mode === mode)) return;
    if (rules.length === 0 && mode === 'none') return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`the runner never applied an egress rule of mode ${mode}`);
}

/** curl inside the environment, with the variables every process there gets. */
async function curl(
  args: string[],
): Promise<{ exitCode: number | null; out: string; err: string }> {
  const result = await system.exec(environment.id, ['curl', '-sS', '--max-time', '20', ...args]);
  return { exitCode: result.exitCode, out: result.out.toString(), err: result.err.toString() };
}

async function egressRecords(count: number): Promise<AuditRecord[]> {
  for (let i = 0; i < 200; i += 1) {
    const { body } = await system.api<{ records: AuditRecord[] }>(
      'GET',
      '/v1/audit?action=environment.egress&limit=1000',
    );
    if (body.records.length >= count) return body.records;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`fewer than ${count} environment.egress records arrived`);
}

/** An address of this host that is not loopback, or a documentation address when it has none. */
function hostAddress(): string {
  const found = Object.values(networkInterfaces())
    .flat()
    .find((entry) => entry && entry.family === 'IPv4' && !entry.internal);
  return found?.address ?? '192.0.2.1';
}

test('every process gets the proxy variables', async () => {
  const result = await system.exec(environment.id, ['sh', '-c', 'env | grep -i _proxy | sort']);
  assert.deepEqual(result.out.toString().trim().split('\n'), [
    'HTTPS_PROXY=http://127.0.0.1:3128',
    'HTTP_PROXY=http://127.0.0.1:3128',
    'NO_PROXY=localhost,127.0.0.1,::1',
    'http_proxy=http://127.0.0.1:3128',
    'https_proxy=http://127.0.0.1:3128',
    'no_proxy=localhost,127.0.0.1,::1',
  ]);
});

test(
  'an allow-listed host is reached through the proxy; others are denied naming the policy',
  { timeout: 120_000 },
  async () => {
    // NO_PROXY names localhost and 127.0.0.1 (loopback inside), so the proxy is named here.
    const proxy = ['--proxy', 'http://127.0.0.1:3128', '--noproxy', ''];
    const page = await curl([...proxy, `http://localhost:${webPort}/page?token=t0p-s3cret`]);
    assert.equal(page.exitCode, 0, page.err);
    assert.equal(page.out, 'the egress page\n');
    assert.ok(served.includes('GET /page?token=t0p-s3cret'));

    const tunnel = await curl([...proxy, '--proxytunnel', `http://127.0.0.1:${webPort}/tunnel`]);
    assert.equal(tunnel.exitCode, 0, tunnel.err);
    assert.equal(tunnel.out, 'the egress page\n');

    const denied = await curl([...proxy, '-i', 'http://evil.example/upload']);
    assert.equal(denied.exitCode, 0, denied.err);
    assert.match(denied.out, /^HTTP\/1\.1 403 Forbidden/);
    assert.match(denied.out, /X-Hangar-Egress-Denied: egress \(class small\)/i);
    assert.match(
      denied.out,
      /egress policy egress \(class small\) \(mode allowlist\) does not allow evil\.example:80/,
    );

    const connect = await curl([...proxy, '-w', '%{http_connect}', 'https://evil.example/']);
    assert.notEqual(connect.exitCode, 0);
    assert.equal(connect.out, '403');

    const port = await curl([
      ...proxy,
      '-w',
      '%{http_code}',
      '-o',
      '/dev/null',
      'http://127.0.0.1:22/',
    ]);
    assert.equal(port.out, '403');

    const records = await egressRecords(5);
    const owner = { kind: 'user', id: environment.ownerId };
    for (const record of records) {
      assert.deepEqual(record.actor, owner);
      assert.deepEqual(record.target, { kind: 'environment', id: environment.id });
    }
    const allowed = records.filter((record) => record.details.decision === 'allowed');
    assert.deepEqual(
      allowed.map((record) => [record.details.host, record.details.method, record.outcome]),
      [
        ['localhost', 'GET', 'success'],
        ['127.0.0.1', 'CONNECT', 'success'],
      ],
    );
    for (const record of allowed) {
      assert.equal(record.details.address, '127.0.0.1');
      assert.ok(Number(record.details.bytesUp) > 0);
      assert.ok(Number(record.details.bytesDown) > 'the egress page\n'.length);
    }
    const refused = records.filter((record) => record.details.decision === 'denied');
    assert.deepEqual(
      refused.map((record) => [record.details.host, record.details.port, record.outcome]),
      [
        ['evil.example', 80, 'denied'],
        ['evil.example', 443, 'denied'],
        ['127.0.0.1', 22, 'denied'],
      ],
    );
    assert.doesNotMatch(JSON.stringify(records), /t0p-s3cret|\/page|\/upload/);
  },
);

test('without the proxy nothing is reachable: loopback is the sandbox own, no other route', async () => {
  const local = await curl(['--noproxy', '*', `http://127.0.0.1:${webPort}/`]);
  assert.equal(local.exitCode, 7, 'nothing of the host listens on the sandbox loopback');
  const host = await curl([
    '--noproxy',
    '*',
    '--connect-timeout',
    '5',
    `http://${hostAddress()}:${webPort}/`,
  ]);
  assert.equal(host.exitCode, 7, host.err);
  assert.match(host.err, /unreachable|Couldn't connect|Failed to connect/i);
});

test(
  'policy changes apply at once: metadata denied in open mode, mode none denies all',
  { timeout: 120_000 },
  async () => {
    await setEgress({ default: { mode: 'open', allowPrivate: ['169.254.0.0/16'] } });
    await ruleApplied('open');
    const metadata = await curl(['-i', 'http://169.254.169.254/latest/meta-data/']);
    assert.match(metadata.out, /^HTTP\/1\.1 403/);
    assert.match(metadata.out, /169\.254\.169\.254:80: it is a metadata address/);
    const mapped = await curl(['-w', '%{http_connect}', 'https://[::ffff:169.254.169.254]/']);
    assert.equal(mapped.out, '403');

    await setEgress(null);
    await ruleApplied('none');
    const none = await curl([
      '-i',
      '--proxy',
      'http://127.0.0.1:3128',
      '--noproxy',
      '',
      `http://127.0.0.1:${webPort}/`,
    ]);
    assert.match(none.out, /^HTTP\/1\.1 403/);
    assert.match(none.out, /X-Hangar-Egress-Denied: egress \(none set\)/i);
    const pushed = system.runner.reconciler.desiredOf(environment.id);
    assert.equal(pushed?.egress, undefined);
    assert.equal(pushed?.generation, environment.generation, 'nothing restarted');
  },
);

test(
  'a task rule set with credentials attributes the decision to the agent',
  { timeout: 60_000 },
  async () => {
    const taskId = 'agt_egresstestaaaaaaa';
    const credential = 'per-task-secret-9f1b2c';
    system.runner.egress.setTaskRule(environment.id, {
      taskId,
      ownerId: environment.ownerId,
      credential,
      rule: {
        mode: 'allowlist',
        allow: [{ host: '127.0.0.1', ports: [webPort] }],
        allowPrivate: ['127.0.0.0/8'],
      },
    });
    try {
      const proxy = ['--proxy', system.runner.egress.proxyUrlFor(credential), '--noproxy', ''];
      const page = await curl([...proxy, `http://127.0.0.1:${webPort}/agent`]);
      assert.equal(page.exitCode, 0, page.err);
      assert.equal(page.out, 'the egress page\n');
      const wrong = await curl([
        '--proxy',
        system.runner.egress.proxyUrlFor('guess'),
        '--noproxy',
        '',
        '-w',
        '%{http_code}',
        '-o',
        '/dev/null',
        `http://127.0.0.1:${webPort}/`,
      ]);
      assert.equal(wrong.out, '407');
      const denied = await curl([...proxy, '-i', 'http://exfil.example/']);
      assert.match(denied.out, /X-Hangar-Egress-Denied: egress\.agents/i);
      const stripped = await curl(['-i', 'http://stripped.invalid/']);
      assert.match(stripped.out, /403/);

      const records = await egressRecords(12);
      const asOwner = records.find((record) => record.details.host === 'stripped.invalid');
      assert.equal(asOwner?.actor.kind, 'user', 'without the credentials it is the owner...');
      assert.equal(asOwner.details.duringAgentTasks, taskId, '...naming the running task');
      const agent = records.filter((record) => record.actor.kind === 'agent');
      assert.deepEqual(
        agent.map((record) => [record.actor.id, record.actor.onBehalfOf, record.details.decision]),
        [
          [taskId, environment.ownerId, 'allowed'],
          [taskId, environment.ownerId, 'denied'],
        ],
      );
      assert.ok(Number(agent[0]?.details.bytesDown) > 0);
      assert.doesNotMatch(JSON.stringify(records), new RegExp(credential));
    } finally {
      system.runner.egress.clearTaskRule(environment.id, taskId);
    }
  },
);
