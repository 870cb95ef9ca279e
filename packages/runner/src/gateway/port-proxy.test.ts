import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { WebSocket } from 'ws';
import type { PortEntry } from '@hangar/api';
import type { EnvdClient, SandboxSpec } from '../providers/provider.js';
import { sandboxFixture, type SandboxFixture } from '../providers/sandbox/test-support.js';
import { desiredFor, rawExchange, rawRequest, startEchoServer } from './port-test-support.js';
import { mergePorts } from './port-routes.js';
import { PortUrls } from './port-target.js';
import { startGateway } from './server.js';
import { eventually, gatewayDeps } from './stream-test-support.js';

// The shared-port proxy and the port list, against a web server inside a real sandbox.
const appPort = 8080;
const portsDomain = 'ports.test';
let fixture: SandboxFixture;
let spec: SandboxSpec;
let envd: EnvdClient;
let setup: ReturnType<typeof gatewayDeps>;
let gateway: Awaited<ReturnType<typeof startGateway>>;
let envId: string;

before(async () => {
  fixture = sandboxFixture();
  spec = fixture.spec();
  envId = spec.environmentId;
  await fixture.provider.start(spec);
  envd = await fixture.provider.connect(envId);
  await startEchoServer(envd, appPort);
  setup = gatewayDeps(fixture.provider, join(fixture.root, 'runner'));
  gateway = await startGateway(setup.deps, { host: '127.0.0.1', port: 0, portsDomain });
});

after(async () => {
  await gateway.close();
  envd.close();
  await fixture.cleanup();
});

beforeEach(() => {
  setup.desired.set(envId, desiredFor(envId, setup.orgId));
  setup.audit.length = 0;
});

function share(level: 'private' | 'org' | 'public'): void {
  setup.desired.set(envId, desiredFor(envId, setup.orgId, [{ port: appPort, level }]));
}

function portGrant(overrides: Parameters<typeof setup.grant>[2] = {}): string {
  return setup.grant(envId, ['ports:connect'], { port: appPort, ...overrides });
}

function pathUrl(rest = '/', port = appPort, environmentId = envId): string {
  return `${gateway.url}/ports/${environmentId}/${port}${rest}`;
}

async function get(url: string, headers: Record<string, string> = {}) {
  return rawRequest(url, { headers });
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

test('a private port refuses a request without a grant, and audits it', async () => {
  const refused = await get(pathUrl());
  assert.equal(refused.status, 401);
  const body = refused.json<{ code: string; message: string }>();
  assert.equal(body.code, 'unauthenticated');
  assert.match(body.message, /hangar port open/);
  const denied = setup.audit.find((record) => record.action === 'access.denied');
  assert.equal(denied?.details.port, appPort);
  assert.equal(denied?.details.operation, 'ports:connect');
});

test('the owner is admitted; the app never sees the grant, its cookie or the dashboard session', async () => {
  const token = portGrant();
  const answer = await get(pathUrl('/some/path?a=1&b=%20'), {
    ...bearer(token),
    cookie:
      'theme=dark; hangar_port_grant=whatever; hangar_session=hgr_x; __Host-hangar_session=hgr_y',
  });
  assert.equal(answer.status, 200, answer.text);
  const seen = answer.json<{ url: string; headers: Record<string, string> }>();
  assert.equal(seen.url, '/some/path?a=1&b=%20');
  assert.equal(seen.headers.authorization, undefined);
  assert.equal(seen.headers.cookie, 'theme=dark');
  assert.equal(seen.headers.host, `localhost:${appPort}`);
  assert.equal(seen.headers['x-forwarded-prefix'], `/ports/${envId}/${appPort}`);
  assert.ok(!answer.text.includes(token), 'no trace of the grant reaches the app');
});

test('a grant from a link becomes a cookie for this port only, then a redirect without it', async () => {
  const token = portGrant();
  const exchanged = await get(pathUrl(`/page?x=1&hangar_grant=${token}&y=2`));
  assert.equal(exchanged.status, 303);
  assert.equal(exchanged.headers.location, `/ports/${envId}/${appPort}/page?x=1&y=2`);
  const cookie = exchanged.headers['set-cookie']?.[0] ?? '';
  assert.match(cookie, /^hangar_port_grant=hat1\./);
  assert.match(cookie, new RegExp(`Path=/ports/${envId}/${appPort}/;`));
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Lax/);
  const value = cookie.split(';')[0] ?? '';
  const followed = await get(pathUrl('/page?x=1&y=2'), { cookie: `${value}; app=2` });
  assert.equal(followed.status, 200);
  const seen = followed.json<{ headers: Record<string, string> }>();
  assert.equal(seen.headers.cookie, 'app=2');

  const bad = await get(pathUrl(`/?hangar_grant=${portGrant({ port: 9090 })}`));
  assert.equal(bad.status, 403, 'a link for another port is refused, not exchanged');
  assert.equal(bad.headers['set-cookie'], undefined);
});

test('a grant opens one port of one environment of one runner, for the actor the level admits', async () => {
  const cases: Array<[string, string, number]> = [
    ['another port', portGrant({ port: 9090 }), 403],
    ['no port', setup.grant(envId, ['ports:connect']), 403],
    [
      'another environment',
      setup.grant('env_anotherone01', ['ports:connect'], { port: appPort }),
      403,
    ],
    ['another runner', portGrant({ aud: 'run_anotherone01' }), 401],
    ['another operation', setup.grant(envId, ['exec'], { port: appPort }), 403],
    ['another actor', portGrant({ actorId: 'usr_someoneelse1' }), 403],
  ];
  for (const [what, token, status] of cases) {
    const answer = await get(pathUrl(), bearer(token));
    assert.equal(answer.status, status, `${what}: ${answer.text}`);
  }
  const other = await get(pathUrl('/', appPort, 'env_anotherone01'), bearer(portGrant()));
  assert.equal(other.status, 404, 'an environment this runner does not hold');
});

test('an org port admits a member and refuses a grant of another org', async () => {
  share('org');
  const member = portGrant({ actorId: 'usr_orgmember001' });
  assert.equal((await get(pathUrl(), bearer(member))).status, 200);
  const outsider = portGrant({ actorId: 'usr_outsider0001', org: 'org_anotherorg01' });
  const refused = await get(pathUrl(), bearer(outsider));
  assert.equal(refused.status, 403);
  assert.match(refused.json<{ message: string }>().message, /organization/);
  assert.equal((await get(pathUrl())).status, 401, 'no grant at all');

  share('private');
  assert.equal((await get(pathUrl(), bearer(member))).status, 403, 'narrowing applies at once');
});

test('a public port is admitted without a grant', async () => {
  share('public');
  const answer = await get(pathUrl('/hello'));
  assert.equal(answer.status, 200);
  assert.equal(answer.json<{ url: string }>().url, '/hello');
});

test('each client connection is one port session, with the bytes it moved', async () => {
  const token = portGrant();
  await get(pathUrl('/one'), bearer(token));
  const start = setup.audit.find((record) => record.action === 'session.start');
  assert.equal(start?.details.kind, 'port');
  assert.equal(start?.details.port, appPort);
  const endOf = () =>
    setup.audit.find(
      (record) =>
        record.action === 'session.end' && record.details.session === start?.details.session,
    );
  assert.ok(
    await eventually(async () => endOf() !== undefined),
    'the session ends with its connection',
  );
  assert.ok(Number(endOf()?.details.bytesOut) > 0, JSON.stringify(endOf()?.details));
  assert.ok(setup.deps.activity.lastActiveAt(envId), 'port traffic marks activity');
});

test('redirects and cookies of the app stay under its port; it cannot replace the grant or plant a session', async () => {
  const answer = await get(pathUrl('/redirect'), bearer(portGrant()));
  assert.equal(answer.status, 302);
  assert.equal(answer.headers.location, `/ports/${envId}/${appPort}/landing`);
  assert.deepEqual(answer.headers['set-cookie'], [`app=1; Path=/ports/${envId}/${appPort}/`]);
  const bare = await get(`${gateway.url}/ports/${envId}/${appPort}?q=1`);
  assert.equal(bare.status, 308);
  assert.equal(bare.headers.location, `/ports/${envId}/${appPort}/?q=1`);
});

test('the host form routes by name and keeps the cookie on that host', async () => {
  const host = `${appPort}-${envId}.${portsDomain}`;
  const exchanged = await get(`${gateway.url}/?hangar_grant=${portGrant()}`, { host });
  assert.equal(exchanged.status, 303);
  assert.equal(exchanged.headers.location, '/');
  assert.match(exchanged.headers['set-cookie']?.[0] ?? '', /Path=\/;/);
  const cookie = exchanged.headers['set-cookie']?.[0]?.split(';')[0] ?? '';
  const answer = await get(`${gateway.url}/v1/health`, { host, cookie });
  assert.equal(answer.status, 200);
  assert.equal(answer.json<{ url: string }>().url, '/v1/health', 'the app, not the gateway');
  const otherPort = await get(`${gateway.url}/`, { host: `9090-${envId}.${portsDomain}`, cookie });
  assert.equal(otherPort.status, 403);
  const malformed = await get(`${gateway.url}/`, { host: `nonsense.${portsDomain}` });
  assert.equal(malformed.status, 400);
});

test('WebSockets are proxied, with the same checks', async () => {
  share('private');
  const url = pathUrl('/socket').replace(/^http/, 'ws');
  const socket = new WebSocket(url, { headers: bearer(portGrant()) });
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  const reply = new Promise<string>((resolve) =>
    socket.once('message', (data: Buffer) => resolve(data.toString())),
  );
  socket.send('ping');
  assert.equal(await reply, 'echo:ping');
  socket.terminate();
  const refused = new WebSocket(url);
  const status = await new Promise<number>((resolve) =>
    refused.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0)),
  );
  assert.equal(status, 401);
});

test('a port nothing listens on is unreachable, not an error of the gateway', async () => {
  const answer = await get(pathUrl('/', 9091), bearer(portGrant({ port: 9091 })));
  assert.equal(answer.status, 503);
  assert.equal(answer.json<{ code: string }>().code, 'unreachable');
});

test('the port list merges what listens with devcontainer.json and the share level', async () => {
  share('org');
  setup.portsConfigs.set(envId, {
    forwardPorts: [appPort, 9999],
    attributes: [
      { match: { kind: 'port', port: 9999 }, look: { label: 'Docs', onAutoForward: 'silent' } },
    ],
    other: { protocol: 'http' },
  });
  const answer = await get(`${gateway.url}/v1/environments/${envId}/ports`, {
    ...bearer(setup.grant(envId, ['ports:read'])),
  });
  assert.equal(answer.status, 200, answer.text);
  const { ports } = answer.json<{ ports: PortEntry[] }>();
  const app = ports.find((entry) => entry.port === appPort);
  assert.equal(app?.listening, true);
  assert.equal(app?.loopbackOnly, true);
  assert.equal(app?.forwarded, true);
  assert.equal(app?.share, 'org');
  assert.equal(app?.protocol, 'http');
  assert.match(app?.process?.command ?? '', /node/);
  assert.equal(app?.url, `${gateway.url}/ports/${envId}/${appPort}/`);
  assert.equal(
    app?.hostUrl,
    `http://${appPort}-${envId}.${portsDomain}:${new URL(gateway.url).port}/`,
  );
  const docs = ports.find((entry) => entry.port === 9999);
  assert.equal(docs?.listening, false);
  assert.equal(docs?.loopbackOnly, null);
  assert.equal(docs?.label, 'Docs');
  assert.equal(docs?.share, 'private');
  const wrongOp = await get(`${gateway.url}/v1/environments/${envId}/ports`, {
    ...bearer(setup.grant(envId, ['exec'])),
  });
  assert.equal(wrongOp.status, 403);
});

function rawHead(path: string, headers: Record<string, string>): string {
  const lines = [`GET ${path} HTTP/1.1`];
  for (const [name, value] of Object.entries({ host: '127.0.0.1', ...headers })) {
    lines.push(`${name}: ${value}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}

test('an upgrade the app refuses is relayed and closed, never left as a raw pipe', async () => {
  const upgrade = rawHead(`/ports/${envId}/${appPort}/plain`, {
    ...bearer(portGrant()),
    connection: 'Upgrade',
    upgrade: 'websocket',
    'sec-websocket-version': '13',
    'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
  });
  const smuggled = rawHead('/spoof', { host: 'evil.example', 'x-forwarded-for': '10.9.9.9' });
  const answer = await rawExchange(gateway.url, upgrade + smuggled, '/spoof');
  assert.match(answer, /^HTTP\/1\.1 404 /);
  assert.match(answer, /no socket$/, 'the app’s answer is relayed whole');
  assert.ok(!answer.includes('/spoof'), `nothing after the refusal reaches the app: ${answer}`);
  const withBody = upgrade.replace('\r\n\r\n', '\r\ntransfer-encoding: chunked\r\n\r\n');
  const refused = await rawExchange(gateway.url, `${withBody}5\r\nhello\r\n0\r\n\r\n`);
  assert.match(refused, /^HTTP\/1\.1 400 .*carries no body/s);
});

test('the path form refuses service worker scripts and strips Service-Worker-Allowed', async () => {
  share('public');
  const refused = await get(pathUrl('/sw.js'), { 'service-worker': 'script' });
  assert.equal(refused.status, 403);
  assert.match(refused.json<{ message: string }>().message, /service worker/);
  const cookies = await get(pathUrl('/cookies'));
  assert.equal(cookies.status, 200);
  assert.equal(cookies.headers['service-worker-allowed'], undefined);
  const host = `${appPort}-${envId}.${portsDomain}`;
  const own = await get(`${gateway.url}/sw.js`, { host, 'service-worker': 'script' });
  assert.equal(own.status, 200, 'a port of its own origin may register a worker');
});

test('a body is forwarded framed for every method; other transfer codings are refused', async () => {
  share('public');
  const body = 'GET /smuggled HTTP/1.1\r\nhost: localhost\r\n\r\n';
  for (const method of ['GET', 'DELETE', 'OPTIONS', 'POST']) {
    const answer = await rawRequest(pathUrl('/framed'), {
      method,
      headers: { 'transfer-encoding': 'chunked' },
      body,
    });
    assert.equal(answer.status, 200, `${method}: ${answer.text}`);
    const seen = answer.json<{ method: string; url: string; body: string }>();
    assert.deepEqual([seen.method, seen.url, seen.body], [method, '/framed', body], method);
  }
  const sized = await rawRequest(pathUrl('/sized'), {
    method: 'PUT',
    headers: { 'content-length': String(Buffer.byteLength(body)) },
    body,
  });
  assert.equal(sized.json<{ body: string }>().body, body);
  const refused = await rawRequest(pathUrl('/framed'), {
    headers: { 'transfer-encoding': 'gzip, chunked' },
    body,
  });
  assert.equal(refused.status, 400);
  assert.match(refused.json<{ message: string }>().message, /Transfer-Encoding/);
});

test('every Path of an app cookie stays under its port, and no Domain passes', async () => {
  share('public');
  const prefix = `/ports/${envId}/${appPort}`;
  const path = await get(pathUrl('/cookies'));
  assert.deepEqual(path.headers['set-cookie'], [
    `twice=1; Path=${prefix}/`,
    `tossed=2; HttpOnly; Path=${prefix}/`,
    'plain=3',
  ]);
  const host = await get(`${gateway.url}/cookies`, { host: `${appPort}-${envId}.${portsDomain}` });
  assert.deepEqual(host.headers['set-cookie'], [
    'twice=1; Path=/x; path=/',
    'tossed=2; Path=/; HttpOnly',
    'plain=3',
  ]);
});

test('the redirect after a grant exchange stays on the origin', async () => {
  const host = `${appPort}-${envId}.${portsDomain}`;
  const slashes = await get(`${gateway.url}//evil.example/x?hangar_grant=${portGrant()}`, { host });
  assert.equal(slashes.status, 303);
  assert.equal(slashes.headers.location, '/evil.example/x');
  const request = rawHead(`/\\evil.example/x?hangar_grant=${portGrant()}`, {
    host,
    connection: 'close',
  });
  const backslash = await rawExchange(gateway.url, request);
  assert.match(backslash, /^HTTP\/1\.1 303 /);
  assert.match(backslash, /\r\nlocation: \/evil\.example\/x\r\n/i);
});

test('forwarding headers from the client never reach the app', async () => {
  share('public');
  const answer = await get(pathUrl('/'), {
    forwarded: 'for=10.9.9.9;host=evil.example',
    'x-real-ip': '10.9.9.9',
    'proxy-authorization': 'Basic c2VjcmV0',
    'x-forwarded-for': '10.9.9.9',
    'x-forwarded-host': 'evil.example',
  });
  const seen = answer.json<{ headers: Record<string, string> }>().headers;
  assert.equal(seen.forwarded, undefined);
  assert.equal(seen['x-real-ip'], undefined);
  assert.equal(seen['proxy-authorization'], undefined);
  assert.equal(seen['x-forwarded-for'], '127.0.0.1');
  assert.equal(seen['x-forwarded-host'], new URL(gateway.url).host);
});

test('the egress proxy port is never proxied, nor listed', async () => {
  const token = setup.grant(envId, ['ports:connect'], { port: 3128 });
  const answer = await get(pathUrl('/', 3128), bearer(token));
  assert.equal(answer.status, 403, answer.text);
  assert.match(answer.text, /egress proxy, which is never shared/);
  const listed = mergePorts({
    environmentId: envId,
    listening: [
      { port: 3128, address: '127.0.0.1', family: 'ipv4', loopbackOnly: true, process: null },
      { port: 8080, address: '0.0.0.0', family: 'ipv4', loopbackOnly: false, process: null },
    ],
    config: { forwardPorts: [3128], attributes: [] },
    desired: undefined,
    urls: new PortUrls(undefined),
  });
  assert.deepEqual(
    listed.map((entry) => entry.port),
    [8080],
  );
});
