import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { applyCors } from './cors.js';

const dashboard = 'http://127.0.0.1:7700';
let url: string;
let handled = 0;
const server = createServer((request, response) => {
  if (applyCors(request, response, [dashboard])) return;
  handled += 1;
  response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
});

before(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/environments/x/logs`;
});

after(() => server.close());

function preflight(origin: string) {
  return fetch(url, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'GET',
      'access-control-request-headers': 'authorization',
    },
  });
}

test('the dashboard origin gets a preflight answer and its responses are readable', async () => {
  const before = handled;
  const answer = await preflight(dashboard);
  assert.equal(answer.status, 204);
  assert.equal(answer.headers.get('access-control-allow-origin'), dashboard);
  assert.match(answer.headers.get('access-control-allow-headers') ?? '', /authorization/);
  assert.equal(answer.headers.get('access-control-allow-credentials'), null, 'never cookies');
  assert.equal(handled, before, 'the preflight never reaches a route');
  const real = await fetch(url, { headers: { origin: dashboard } });
  assert.equal(real.headers.get('access-control-allow-origin'), dashboard);
  assert.equal(real.headers.get('vary'), 'Origin');
});

test('another origin gets no CORS headers: its page cannot read the gateway', async () => {
  const answer = await preflight('http://127.0.0.1:9999');
  assert.equal(answer.headers.get('access-control-allow-origin'), null);
  const real = await fetch(url, { headers: { origin: 'http://evil.invalid' } });
  assert.equal(real.headers.get('access-control-allow-origin'), null);
  const none = await fetch(url);
  assert.equal(none.headers.get('access-control-allow-origin'), null);
});
