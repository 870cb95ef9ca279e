import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import type { AuditRecord, ProcessDetail, ProcessInfoBody } from '@hangar/api';
import { addUser } from '@hangar/control-plane/testing/users.js';
import { echoServerScript } from '@hangar/runner/gateway/port-test-support.js';
import { TestTerminal } from '@hangar/runner/gateway/terminal-test-support.js';
import { execWith, startSystem, type System } from '../support/system.js';

// Terminals, durable commands and shared ports through a real control plane and runner.
let system: System;
let id: string;

before(async () => {
  system = await startSystem();
  id = (await system.createAndWait({ name: 'data-plane-2' })).id;
});
after(async () => {
  await system.close();
});

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let round = 0; round < 200; round += 1) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function gateway<T>(
  grant: { token: string; gatewayUrl: string },
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${grant.gatewayUrl}/v1/environments/${id}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${grant.token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as T };
}

test('a terminal killed mid-session reattaches with a fresh grant and sees what it missed', async () => {
  const first = await system.grant(id, ['terminal']);
  const terminal = await TestTerminal.connect({
    gatewayUrl: first.gatewayUrl,
    environmentId: id,
    token: first.token,
    start: { type: 'open', cols: 80, rows: 24 },
  });
  const { processId } = await terminal.waitForMessage('ready');
  terminal.type('echo canary-$((1000+337))\r');
  await terminal.waitForText('canary-1337');
  terminal.type('sleep 1; echo missed-$((6*7))\r');
  await terminal.waitForText('sleep 1');
  const seen = terminal.offset;
  terminal.kill();

  const second = await system.grant(id, ['terminal']);
  const again = await TestTerminal.connect({
    gatewayUrl: second.gatewayUrl,
    environmentId: id,
    token: second.token,
    start: { type: 'attach', processId, fromOffset: seen },
  });
  await again.waitForText('missed-42');
  again.type('exit\r');
  await again.waitForMessage('exit');

  await until(async () => {
    const { body } = await system.api<{ records: AuditRecord[] }>(
      'GET',
      '/v1/audit?action=session.end',
    );
    return body.records.filter((record) => record.details.kind === 'terminal').length >= 2;
  }, 'both terminal sessions audited on the control plane');
});

test('a detached command outlives its client; its exit code and output tail are read later', async () => {
  const grant = await system.grant(id, ['exec']);
  const started = await gateway<ProcessInfoBody>(grant, 'POST', '/processes', {
    command: ['sh', '-c', 'echo secret-output-$((2*21)); sleep 1; exit 9'],
  });
  assert.equal(started.status, 201, JSON.stringify(started.body));

  const later = await system.grant(id, ['exec']);
  let info = started.body;
  while (info.state === 'running') {
    info = (await gateway<ProcessInfoBody>(later, 'GET', `/processes/${info.id}/wait?timeoutS=5`))
      .body;
  }
  assert.equal(info.exitCode, 9);
  const detail = await gateway<ProcessDetail>(later, 'GET', `/processes/${info.id}`);
  assert.equal(Buffer.from(detail.body.outputTail, 'base64').toString(), 'secret-output-42\n');

  await until(async () => {
    const { body } = await system.api<{ records: AuditRecord[] }>(
      'GET',
      '/v1/audit?action=environment.process.start',
    );
    return body.records.some((record) => record.details.process === info.id);
  }, 'the process start audited on the control plane');
  const { body } = await system.api<{ records: AuditRecord[] }>('GET', '/v1/audit');
  assert.ok(!JSON.stringify(body).includes('secret-output'), 'no command text or output');
});

test('a shared port: private for the owner, org for members, public only when allowed', async () => {
  const port = 3000;
  const exec = await system.grant(id, ['exec']);
  const ready = '/tmp/echo-ready';
  await gateway(exec, 'POST', '/processes', { command: echoServerScript(port, ready) });
  await until(
    async () =>
      (await execWith(exec, id, ['test', '-f', ready]).catch(() => undefined))?.exitCode === 0,
    'the web server inside',
  );
  const page = `${system.runner.gatewayUrl}/ports/${id}/${port}/hello`;
  assert.equal((await fetch(page)).status, 401, 'private, no grant');

  const openAs = async (token?: string) => {
    const response = await fetch(`${system.cp.url}/v1/environments/${id}/ports/${port}/access`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token ?? system.token}` },
    });
    return { status: response.status, body: (await response.json()) as { token: string } };
  };
  const withGrant = (token: string) =>
    fetch(page, { headers: { authorization: `Bearer ${token}` } });
  const owner = await openAs();
  assert.equal(owner.status, 201, JSON.stringify(owner.body));
  assert.equal((await withGrant(owner.body.token)).status, 200);

  const member = await addUser(system.cp.context, { orgId: system.orgId, role: 'member' });
  const outsider = await addUser(system.cp.context, { role: 'owner' });
  assert.notEqual((await openAs(member.token)).status, 201, 'private: no grant for a member');
  const shared = await system.api('PUT', `/v1/environments/${id}/ports/${port}`, { level: 'org' });
  assert.equal(shared.status, 200, JSON.stringify(shared.body));
  const memberGrant = await openAs(member.token);
  assert.equal(memberGrant.status, 201, JSON.stringify(memberGrant.body));
  await until(async () => (await withGrant(memberGrant.body.token)).status === 200, 'org share');
  assert.notEqual((await openAs(outsider.token)).status, 201, 'no grant for another org');
  assert.equal((await fetch(page)).status, 401, 'org, no grant');

  const forbidden = await system.api('PUT', `/v1/environments/${id}/ports/${port}`, {
    level: 'public',
  });
  assert.notEqual(forbidden.status, 200, 'public is refused while the policy forbids it');
  assert.equal((await fetch(page)).status, 401);
  const policy = await system.api('PATCH', '/v1/org/policy', { maxPortShareLevel: 'public' });
  assert.equal(policy.status, 200, JSON.stringify(policy.body));
  const opened = await system.api('PUT', `/v1/environments/${id}/ports/${port}`, {
    level: 'public',
  });
  assert.equal(opened.status, 200, JSON.stringify(opened.body));
  await until(async () => (await fetch(page)).status === 200, 'the public share');
  const answer = (await (await fetch(page)).json()) as { url: string };
  assert.equal(answer.url, '/hello');
});

test('narrowing a share ends the port connections it admitted', async () => {
  // Runs after the test above, which left port 3000 shared publicly.
  const gatewayUrl = new URL(system.runner.gatewayUrl);
  const socket = connect(Number(gatewayUrl.port), gatewayUrl.hostname);
  await once(socket, 'connect');
  const closed = once(socket, 'close');
  let received = '';
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString('latin1');
  });
  socket.write(
    `GET /ports/${id}/3000/kept HTTP/1.1\r\nHost: ${gatewayUrl.host}\r\nConnection: keep-alive\r\n\r\n`,
  );
  await until(async () => received.includes('"/kept"'), 'the answer on the kept connection');
  assert.match(received, /^HTTP\/1\.1 200/);
  const narrowed = await system.api('PUT', `/v1/environments/${id}/ports/3000`, {
    level: 'private',
  });
  assert.equal(narrowed.status, 200, JSON.stringify(narrowed.body));
  await closed;
  await until(async () => {
    const { body } = await system.api<{ records: AuditRecord[] }>(
      'GET',
      '/v1/audit?action=session.end',
    );
    return body.records.some((record) => record.details.reason === 'the port share levels changed');
  }, 'the session end record');
});
