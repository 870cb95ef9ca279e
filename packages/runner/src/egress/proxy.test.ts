import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import {
  connect as netConnect,
  createServer as createTcpServer,
  type AddressInfo,
  type Socket,
} from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Actor, EgressRule } from '@hangar/api';
import pino from 'pino';
import type { AuditDraft } from '../audit-queue.js';
import { EgressProxy, type ProxyLimits } from './proxy.js';
import type { LookupAll } from './resolve.js';
import { compileRule, type CompiledRule } from './rules.js';

const environmentId = 'env_aaaaaaaaaaaaaaaa';
const owner: Actor = { kind: 'user', id: 'usr_aaaaaaaaaaaaaaaa' };
const agent: Actor = { kind: 'agent', id: 'agt_aaaaaaaaaaaaaaaa', onBehalfOf: owner.id };

/**
 * Names the tests resolve, without DNS: `localhost`, and `twoface.test`, which answers a loopback
 * and a private address. Every other name does not resolve, so nothing leaves this host.
 */
const asked: string[] = [];
const lookup: LookupAll = async (host) => {
  asked.push(host);
  if (host === 'localhost') return [{ address: '127.0.0.1' }];
  if (host === 'twoface.test') return [{ address: '127.0.0.1' }, { address: '10.9.9.9' }];
  throw Object.assign(new Error(`${host} not found`), { code: 'ENOTFOUND' });
};

let web: Server;
let webPort: number;
let echoPort: number;
let echo: ReturnType<typeof createTcpServer>;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hangar-egress-'));
  web = createServer((req, res) => {
    const auth = req.headers['proxy-authorization'] ?? 'none';
    const body = `hello ${req.method} ${req.url} ${auth} ${req.headers.host ?? ''}`;
    res.writeHead(200, { 'content-type': 'text/plain', 'x-upstream': 'yes' });
    res.end(body);
  });
  await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
  webPort = (web.address() as AddressInfo).port;
  echo = createTcpServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  echoPort = (echo.address() as AddressInfo).port;
});

after(async () => {
  await new Promise((resolve) => web.close(resolve));
  await new Promise((resolve) => echo.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

const loopbackRule = (ports: number[]): EgressRule => ({
  mode: 'allowlist',
  allow: [
    { host: '127.0.0.1', ports },
    { host: 'localhost', ports },
    { host: 'twoface.test', ports },
  ],
  allowPrivate: ['127.0.0.0/8'],
});

async function startProxy(options: { rules?: CompiledRule[]; limits?: Partial<ProxyLimits> } = {}) {
  const records: AuditDraft[] = [];
  let rules = options.rules ?? [
    compileRule(loopbackRule([webPort, echoPort]), 'egress (class small)'),
  ];
  const socketPath = join(dir, `proxy-${records.length}-${Math.random().toString(36).slice(2)}`);
  const proxy = await EgressProxy.listen({
    socketPath,
    context: {
      environmentId,
      rules: () => rules,
      actorFor: (credential) =>
        credential === undefined ? owner : credential === 'task-secret' ? agent : undefined,
    },
    audit: { append: async (draft) => void records.push(draft) },
    logger: pino({ level: 'silent' }),
    lookup,
    ...(options.limits ? { limits: options.limits } : {}),
  });
  return {
    proxy,
    socketPath,
    records,
    setRules: (next: CompiledRule[]) => {
      rules = next;
      proxy.recheck();
    },
  };
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function get(socketPath: string, url: string, headers: Record<string, string> = {}) {
  return new Promise<Answer>((resolve, reject) => {
    const req = request({ socketPath, path: url, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** CONNECT through the proxy; resolves with the answer and, when it is 200, the tunnel. */
function connectThrough(
  socketPath: string,
  authority: string,
  headers: Record<string, string> = {},
) {
  return new Promise<Answer & { socket: Socket }>((resolve, reject) => {
    const req = request({ socketPath, method: 'CONNECT', path: authority, headers });
    req.on('connect', (res, socket: Socket, head: Buffer) => {
      const answer = { status: res.statusCode ?? 0, headers: res.headers, socket };
      if (answer.status === 200) return resolve({ ...answer, body: '' });
      let body = head.toString();
      socket.on('data', (chunk: Buffer) => (body += chunk.toString()));
      socket.on('end', () => resolve({ ...answer, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; !check(); i += 1) {
    if (i > 2000) throw new Error('the expected audit records never came');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function basic(password: string): string {
  return `Basic ${Buffer.from(`agent:${password}`).toString('base64')}`;
}

test('an allowed request is forwarded to the checked address and audited with its bytes', async () => {
  const { proxy, socketPath, records } = await startProxy();
  try {
    assert.equal((await stat(socketPath)).mode & 0o777, 0o600);
    const answer = await get(socketPath, `http://localhost:${webPort}/secret/path?token=abc`);
    assert.equal(answer.status, 200);
    assert.equal(answer.body, `hello GET /secret/path?token=abc none localhost:${webPort}`);
    assert.equal(answer.headers['x-upstream'], 'yes');
    await until(() => records.length === 1);
    const [record] = records;
    assert.equal(record?.action, 'environment.egress');
    assert.deepEqual(record?.actor, owner);
    assert.deepEqual(record?.target, { kind: 'environment', id: environmentId });
    assert.equal(record?.outcome, 'success');
    assert.equal(record?.details.host, 'localhost');
    assert.equal(record?.details.port, webPort);
    assert.equal(record?.details.address, '127.0.0.1');
    assert.equal(record?.details.decision, 'allowed');
    assert.equal(record?.details.policy, 'egress (class small)');
    assert.ok(Number(record?.details.bytesUp) > 0);
    assert.ok(Number(record?.details.bytesDown) > Buffer.byteLength(answer.body));
    assert.doesNotMatch(JSON.stringify(records), /secret|token/);
  } finally {
    await proxy.close();
  }
});

test('a denied host gets 403 naming the policy, audited at once, before any resolution', async () => {
  const { proxy, socketPath, records } = await startProxy();
  try {
    asked.length = 0;
    const answer = await get(socketPath, 'http://evil.example/upload?key=1');
    assert.equal(answer.status, 403);
    assert.equal(answer.headers['x-hangar-egress-denied'], 'egress (class small)');
    assert.equal(
      answer.body,
      'egress policy egress (class small) (mode allowlist) does not allow evil.example:80\n',
    );
    assert.equal(records.length, 1);
    assert.equal(records[0]?.outcome, 'denied');
    assert.equal(records[0]?.details.decision, 'denied');
    assert.equal(records[0]?.details.address, undefined);
    assert.deepEqual(asked, []);
  } finally {
    await proxy.close();
  }
});

test('a name with any address outside allowPrivate is refused, whichever comes first', async () => {
  const { proxy, socketPath, records } = await startProxy();
  try {
    const answer = await get(socketPath, `http://twoface.test:${webPort}/`);
    assert.equal(answer.status, 403);
    assert.match(answer.body, /it resolves to 10\.9\.9\.9, a private address/);
    assert.equal(records[0]?.outcome, 'denied');
  } finally {
    await proxy.close();
  }
});

test('CONNECT opens a tunnel to an allowed port and counts its bytes when it closes', async () => {
  const { proxy, socketPath, records } = await startProxy();
  try {
    const answer = await connectThrough(socketPath, `127.0.0.1:${echoPort}`);
    assert.equal(answer.status, 200);
    answer.socket.write('ping over the tunnel');
    const echoed = await new Promise<string>((resolve) =>
      answer.socket.once('data', (chunk: Buffer) => resolve(chunk.toString())),
    );
    assert.equal(echoed, 'ping over the tunnel');
    answer.socket.end();
    await until(() => records.length === 1);
    assert.equal(records[0]?.details.method, 'CONNECT');
    assert.equal(records[0]?.outcome, 'success');
    assert.equal(records[0]?.details.bytesUp, 20);
    assert.equal(records[0]?.details.bytesDown, 20);
  } finally {
    await proxy.close();
  }
});

test('CONNECT to a denied host or port gets the same 403 before any tunnel', async () => {
  const { proxy, socketPath, records } = await startProxy();
  try {
    const host = await connectThrough(socketPath, 'evil.example:443');
    assert.equal(host.status, 403);
    assert.equal(host.headers['x-hangar-egress-denied'], 'egress (class small)');
    assert.match(host.body, /does not allow evil\.example:443/);
    const port = await connectThrough(socketPath, '127.0.0.1:22');
    assert.equal(port.status, 403);
    assert.match(port.body, /does not allow 127\.0\.0\.1:22: only port/);
    assert.deepEqual(
      records.map((record) => record.outcome),
      ['denied', 'denied'],
    );
  } finally {
    await proxy.close();
  }
});

test('metadata addresses are refused in open mode, as literals in any spelling', async () => {
  const open = compileRule({ mode: 'open', allowPrivate: ['169.254.0.0/16'] }, 'egress (class x)');
  const { proxy, socketPath } = await startProxy({ rules: [open] });
  try {
    for (const url of [
      'http://169.254.169.254/latest/meta-data/',
      'http://[::ffff:169.254.169.254]/',
      'http://[fd00:ec2::254]/',
      'http://100.100.100.200/',
    ]) {
      const answer = await get(socketPath, url);
      assert.equal(answer.status, 403, url);
      assert.match(answer.body, /metadata address/, url);
    }
    const tunnel = await connectThrough(socketPath, '169.254.169.254:80');
    assert.equal(tunnel.status, 403);
  } finally {
    await proxy.close();
  }
});

test('mode none refuses everything, loopback included', async () => {
  const none = compileRule({ mode: 'none' }, 'egress (none set)');
  const { proxy, socketPath } = await startProxy({ rules: [none] });
  try {
    const answer = await get(socketPath, `http://127.0.0.1:${webPort}/`);
    assert.equal(answer.status, 403);
    assert.equal(answer.headers['x-hangar-egress-denied'], 'egress (none set)');
  } finally {
    await proxy.close();
  }
});

test('the task credential names the agent and is not passed on; a wrong one gets 407', async () => {
  const { proxy, socketPath, records } = await startProxy();
  try {
    const answer = await get(socketPath, `http://127.0.0.1:${webPort}/`, {
      'proxy-authorization': basic('task-secret'),
    });
    assert.equal(answer.status, 200);
    assert.match(answer.body, / none 127\.0\.0\.1:\d+$/);
    await until(() => records.length === 1);
    assert.deepEqual(records[0]?.actor, agent);
    const wrong = await get(socketPath, `http://127.0.0.1:${webPort}/`, {
      'proxy-authorization': basic('guess'),
    });
    assert.equal(wrong.status, 407);
    assert.match(String(wrong.headers['proxy-authenticate']), /^Basic/);
    const tunnel = await connectThrough(socketPath, `127.0.0.1:${echoPort}`, {
      'proxy-authorization': basic('guess'),
    });
    assert.equal(tunnel.status, 407);
    assert.deepEqual(records[1]?.actor, owner);
    assert.equal(records[1]?.outcome, 'denied');
    const fronted = await get(socketPath, `http://127.0.0.1:${webPort}/`, { host: 'other.test' });
    assert.match(fronted.body, / 127\.0\.0\.1:\d+$/, 'the Host header is the target');
  } finally {
    await proxy.close();
  }
});

test('requests that are not proxy requests, or too large, are refused', async () => {
  const { proxy, socketPath, records } = await startProxy({ limits: { maxHeaderBytes: 2048 } });
  try {
    const relative = await get(socketPath, '/just/a/path');
    assert.equal(relative.status, 400);
    assert.match(relative.body, /absolute http:\/\/ URL/);
    const big = await get(socketPath, `http://127.0.0.1:${webPort}/`, {
      'x-big': 'a'.repeat(4096),
    });
    assert.equal(big.status, 431);
    const bad = await connectThrough(socketPath, 'no-port-here');
    assert.equal(bad.status, 400);
    assert.equal(records.length, 0);
  } finally {
    await proxy.close();
  }
});

test('connections past the limit are answered 503', async () => {
  const { proxy, socketPath } = await startProxy({ limits: { maxConnections: 1 } });
  try {
    const first = await connectThrough(socketPath, `127.0.0.1:${echoPort}`);
    assert.equal(first.status, 200);
    const second = await get(socketPath, `http://127.0.0.1:${webPort}/`);
    assert.equal(second.status, 503);
    first.socket.destroy();
  } finally {
    await proxy.close();
  }
});

test('a CONNECT over the limit is answered 503, never decided, and cannot crash the proxy', async () => {
  const { proxy, socketPath, records } = await startProxy({ limits: { maxConnections: 1 } });
  try {
    const first = await connectThrough(socketPath, `127.0.0.1:${echoPort}`);
    assert.equal(first.status, 200);
    for (let round = 0; round < 5; round += 1) {
      const raw = netConnect(socketPath);
      raw.write(`CONNECT 127.0.0.1:${echoPort} HTTP/1.1\r\nHost: x\r\n\r\n`);
      const answer = await new Promise<string>((resolve) => {
        let text = '';
        raw.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
        raw.on('error', () => resolve(text));
        raw.on('close', () => resolve(text));
      });
      assert.match(answer, /^HTTP\/1\.1 503 /);
    }
    first.socket.destroy();
    await until(() => records.length === 1);
    assert.equal(records.length, 1, 'only the admitted tunnel was decided and recorded');
    const after = await get(socketPath, `http://127.0.0.1:${webPort}/`);
    assert.equal(after.status, 200, 'the proxy still serves');
  } finally {
    await proxy.close();
  }
});

test('an idle tunnel is closed after the idle timeout', async () => {
  const { proxy, socketPath, records } = await startProxy({ limits: { idleTimeoutMs: 50 } });
  try {
    const tunnel = await connectThrough(socketPath, `127.0.0.1:${echoPort}`);
    assert.equal(tunnel.status, 200);
    await new Promise((resolve) => tunnel.socket.once('close', resolve));
    await until(() => records.length === 1);
    assert.equal(records[0]?.details.reason, 'the tunnel was idle too long');
  } finally {
    await proxy.close();
  }
});

test('a rule change closes the tunnels it no longer allows, at once', async () => {
  const { proxy, socketPath, records, setRules } = await startProxy();
  try {
    const tunnel = await connectThrough(socketPath, `127.0.0.1:${echoPort}`);
    assert.equal(tunnel.status, 200);
    const closed = new Promise((resolve) => tunnel.socket.once('close', resolve));
    setRules([compileRule({ mode: 'none' }, 'egress.agents')]);
    await closed;
    await until(() => records.length === 1);
    assert.equal(records[0]?.outcome, 'failure');
    assert.match(String(records[0]?.details.reason), /the egress rules changed: egress policy/);
    const after = await get(socketPath, `http://127.0.0.1:${webPort}/`);
    assert.equal(after.status, 403);
    assert.equal(after.headers['x-hangar-egress-denied'], 'egress.agents');
  } finally {
    await proxy.close();
  }
});

test('an allowed address that refuses the connection is a 502, audited as a failure', async () => {
  const closedPort = await new Promise<number>((resolve) => {
    const probe = createTcpServer();
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
  const rules = [compileRule(loopbackRule([closedPort]), 'egress (class small)')];
  const { proxy, socketPath, records } = await startProxy({ rules });
  try {
    const answer = await get(socketPath, `http://127.0.0.1:${closedPort}/`);
    assert.equal(answer.status, 502);
    assert.match(answer.body, /ECONNREFUSED/);
    await until(() => records.length === 1);
    assert.equal(records[0]?.outcome, 'failure');
  } finally {
    await proxy.close();
  }
});

test('a name that does not resolve is a 502 saying so', async () => {
  const open = compileRule({ mode: 'open' }, 'egress (class small)');
  const { proxy, socketPath, records } = await startProxy({ rules: [open] });
  try {
    const answer = await get(socketPath, 'http://nowhere.invalid/');
    assert.equal(answer.status, 502);
    assert.equal(answer.body, 'nowhere.invalid does not resolve (ENOTFOUND)\n');
    assert.equal(records[0]?.outcome, 'failure');
    assert.equal(records[0]?.details.decision, 'failed');
  } finally {
    await proxy.close();
  }
});
