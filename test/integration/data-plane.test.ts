import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { signAccessToken, generateEd25519, privateKeyObject } from '@hangar/api';
import { execStream, execWith, startSystem, type System } from '../support/system.js';

let system: System;
let id: string;

before(async () => {
  system = await startSystem();
  id = (await system.createAndWait({ name: 'data-plane' })).id;
});
after(async () => {
  await system.close();
});

test('exec output is bytes: binary, invalid UTF-8, a split multibyte character, a 5 MB line', async () => {
  const grant = await system.grant(id, ['exec']);
  const binary = await execWith(grant, id, ['sh', '-c', "printf '\\000\\001\\377\\376abc'"]);
  assert.deepEqual([...binary.out], [0, 1, 255, 254, 97, 98, 99]);
  const invalid = await execWith(grant, id, ['sh', '-c', "printf '\\303\\050ok'"]);
  assert.deepEqual([...invalid.out], [0xc3, 0x28, 0x6f, 0x6b]);
  const split = await execWith(grant, id, [
    'sh',
    '-c',
    "printf '\\342'; sleep 0.05; printf '\\202\\254'; printf 'x' >&2",
  ]);
  assert.equal(split.out.toString('utf8'), '€');
  assert.equal(split.err.toString(), 'x');
  const big = await execWith(grant, id, ['sh', '-c', 'head -c 5242880 /dev/zero | tr "\\000" a']);
  assert.equal(big.out.length, 5 * 1024 * 1024);
  assert.ok(big.out.every((byte) => byte === 97));

  const streamed = await execStream(grant, id, {
    command: ['sh', '-c', 'head -c 5242880 /dev/zero | tr "\\000" b; printf "\\377" >&2'],
  });
  assert.equal(streamed.out.length, 5 * 1024 * 1024);
  assert.deepEqual([...streamed.err], [255]);
  assert.equal(streamed.exit.exitCode, 0);
});

test('exec returns exit codes, takes stdin, cwd and env, and a timeout kills the group', async () => {
  const grant = await system.grant(id, ['exec']);
  const code = await execWith(grant, id, ['sh', '-c', 'exit 42']);
  assert.equal(code.exitCode, 42);
  const input = await execWith(grant, id, ['cat'], {
    stdin: Buffer.from([0, 255, 10]).toString('base64'),
  });
  assert.deepEqual([...input.out], [0, 255, 10]);
  const where = await execWith(grant, id, ['sh', '-c', 'pwd; echo $ANSWER'], {
    cwd: '/tmp',
    env: { ANSWER: '42' },
  });
  assert.equal(where.out.toString(), '/tmp\n42\n');
  const timed = await execWith(
    grant,
    id,
    ['sh', '-c', 'echo before; (trap "" TERM; sleep 60) & sleep 60'],
    { timeoutMs: 500 },
  );
  assert.equal(timed.timedOut, true);
  assert.equal(timed.out.toString(), 'before\n');
  const leftover = await execWith(grant, id, [
    'sh',
    '-c',
    'ps -eo args | grep -c "[s]leep 60" || true',
  ]);
  assert.equal(leftover.out.toString().trim(), '0');
  const streamed = await execStream(grant, id, { command: ['cat'] }, Buffer.from('piped'));
  assert.equal(streamed.out.toString(), 'piped');
});

test('files are read, written and listed inside the environment only', async () => {
  const grant = await system.grant(id, ['files:read', 'files:write']);
  const base = `${grant.gatewayUrl}/v1/environments/${id}/files`;
  const auth = { authorization: `Bearer ${grant.token}` };
  const content = Buffer.from([1, 2, 3, 0, 255]);
  const put = await fetch(`${base}?path=notes/data.bin`, {
    method: 'PUT',
    headers: { ...auth, 'content-type': 'application/octet-stream' },
    body: content,
  });
  assert.equal(put.status, 204, await put.text());
  const got = await fetch(`${base}?path=notes/data.bin`, { headers: auth });
  assert.deepEqual([...Buffer.from(await got.arrayBuffer())], [...content]);
  const listed = await fetch(`${base}/list?path=notes`, { headers: auth });
  const { entries } = (await listed.json()) as { entries: { name: string; size: number }[] };
  assert.deepEqual(
    entries.map((e) => [e.name, e.size]),
    [['data.bin', 5]],
  );

  const exec = await system.grant(id, ['exec']);
  await execWith(exec, id, ['ln', '-s', '/etc', 'escape-link']);
  for (const path of ['../../etc/passwd', '/etc/passwd', 'escape-link/passwd', '/proc/1/environ']) {
    const read = await fetch(`${base}?path=${encodeURIComponent(path)}`, { headers: auth });
    const body = (await read.json()) as { code: string; message: string };
    assert.equal(read.status, 400, `${path}: ${JSON.stringify(body)}`);
    assert.equal(body.code, 'path_outside_environment');
    const write = await fetch(`${base}?path=${encodeURIComponent(path)}`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/octet-stream' },
      body: 'x',
    });
    assert.equal(write.status, 400, path);
  }
});

test('the gateway refuses tokens that are missing, forged, expired, for another environment or operation', async () => {
  const url = `${system.runner.gatewayUrl}/v1/environments/${id}/exec`;
  const body = JSON.stringify({ command: ['true'] });
  const headers = { 'content-type': 'application/json' };
  const none = await fetch(url, { method: 'POST', headers, body });
  assert.equal(none.status, 401);
  const real = await system.grant(id, ['files:read']);
  const wrongOp = await fetch(url, {
    method: 'POST',
    headers: { ...headers, authorization: `Bearer ${real.token}` },
    body,
  });
  assert.equal(wrongOp.status, 403);
  const forger = generateEd25519();
  const nowS = Math.floor(Date.now() / 1000);
  const claims = {
    iss: 'hangar' as const,
    aud: system.runner.runnerId,
    org: system.orgId,
    env: id,
    act: { kind: 'user' as const, id: 'usr_forgedforgedforg' },
    ops: ['exec' as const],
    iat: nowS,
    exp: nowS + 60,
    jti: 'grt_forgedforgedforg',
  };
  const forged = signAccessToken(claims, privateKeyObject(forger.privateKey));
  const forgedResponse = await fetch(url, {
    method: 'POST',
    headers: { ...headers, authorization: `Bearer ${forged}` },
    body,
  });
  assert.equal(forgedResponse.status, 401);
  const other = await system.createAndWait({ name: 'other-env' });
  const otherGrant = await system.grant(other.id, ['exec']);
  const crossed = await fetch(url, {
    method: 'POST',
    headers: { ...headers, authorization: `Bearer ${otherGrant.token}` },
    body,
  });
  assert.equal(crossed.status, 403);
  const audit = await system.api<{ records: { outcome: string }[] }>(
    'GET',
    '/v1/audit?action=access.denied',
  );
  for (let i = 0; i < 50 && audit.body.records.length < 3; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    Object.assign(audit, await system.api('GET', '/v1/audit?action=access.denied'));
  }
  assert.ok(audit.body.records.length >= 3, 'the gateway audits its refusals');
});

test('every gateway route declares its grant and refuses a request without one', async () => {
  const routes = system.runner.gatewayRoutes;
  assert.ok(routes.length >= 6);
  for (const route of routes)
    assert.ok(route.grant, `${route.method} ${route.url} has no grant rule`);
  const guarded = routes.filter((route) => route.grant?.kind === 'grant');
  for (const route of guarded) {
    const url = `${system.runner.gatewayUrl}${route.url.replace(':id', id)}?path=x`;
    const response = await fetch(url, {
      method: route.method,
      ...(route.method === 'POST'
        ? { headers: { 'content-type': 'application/json' }, body: '{}' }
        : {}),
    });
    assert.equal(response.status, 401, `${route.method} ${route.url}`);
  }
  assert.deepEqual(
    routes
      .filter((route) => route.grant?.kind === 'public')
      .map((route) => route.url)
      .sort(),
    ['/v1/health', '/v1/openapi.json'],
  );
});
