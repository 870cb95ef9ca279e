import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { HangarError } from '@hangar/api';
import { appCookies, grantCookieHeader, queryGrant, withoutGrantParam } from './port-access.js';
import { portTargetOf, PortUrls } from './port-target.js';

const env = 'env_3k9xq2m1p0a8z7yw';

function requestOf(url: string, headers: Record<string, string> = {}): IncomingMessage {
  return { url, headers } as unknown as IncomingMessage;
}

test('the path form names the environment and port; the rest is what the app sees', () => {
  assert.deepEqual(portTargetOf(requestOf(`/ports/${env}/3000/a/b?c=1`), undefined), {
    environmentId: env,
    port: 3000,
    form: 'path',
    prefix: `/ports/${env}/3000`,
    appPath: '/a/b?c=1',
    bare: false,
  });
  const bare = portTargetOf(requestOf(`/ports/${env}/3000?x=1`), undefined);
  assert.equal(bare?.bare, true);
  assert.equal(bare?.appPath, '/?x=1');
  assert.equal(portTargetOf(requestOf('/v1/health'), undefined), undefined, 'the API');
  assert.equal(portTargetOf(requestOf('/portsx/1'), undefined), undefined);
  for (const url of ['/ports', `/ports/${env}/0/`, `/ports/${env}/70000/`, '/ports/ENV/1/']) {
    assert.throws(() => portTargetOf(requestOf(url), undefined), HangarError, url);
  }
});

test('the host form needs the ports domain and takes <port>-<environment id>', () => {
  const host = (name: string) => requestOf('/x?y=1', { host: name });
  const target = portTargetOf(host(`8080-${env}.ports.test:7701`), 'ports.test');
  assert.equal(target?.form, 'host');
  assert.equal(target?.environmentId, env);
  assert.equal(target?.port, 8080);
  assert.equal(target?.appPath, '/x?y=1');
  const dashed = portTargetOf(host('8080-env-3k9xq2m1p0a8z7yw.PORTS.test'), 'ports.test');
  assert.equal(dashed?.environmentId, env, 'env-… for names that refuse _');
  assert.equal(portTargetOf(host(`8080-${env}.ports.test`), undefined), undefined);
  assert.equal(portTargetOf(host('gateway.example.com'), 'ports.test'), undefined);
  assert.throws(() => portTargetOf(host('a.b.ports.test'), 'ports.test'), HangarError);
});

test('the grant parameter is taken out of the query, the rest kept byte for byte', () => {
  assert.equal(withoutGrantParam('/p?a=%20&hangar_grant=x&b=+'), '/p?a=%20&b=+');
  assert.equal(withoutGrantParam('/p?hangar_grant=x'), '/p');
  assert.equal(withoutGrantParam('/p'), '/p');
  assert.equal(queryGrant('/p?a=1&hangar_grant=hat1.a%2Eb'), 'hat1.a.b');
  assert.equal(queryGrant('/p?hangar_grant=%E0%A4%A'), '%E0%A4%A', 'bad escapes stay as sent');
  assert.equal(queryGrant('/p?a=1'), undefined);
});

test('the grant cookie: scoped to the port, kept from the app', () => {
  const path = portTargetOf(requestOf(`/ports/${env}/3000/`), undefined);
  assert.ok(path);
  const exchange = { token: 'hat1.x.y', expiresAtS: Math.floor(Date.now() / 1000) + 60 };
  const cookie = grantCookieHeader(path, exchange, { secure: true });
  assert.match(cookie, new RegExp(`^hangar_port_grant=hat1\\.x\\.y; Path=/ports/${env}/3000/;`));
  assert.match(cookie, /Max-Age=(59|60); HttpOnly; SameSite=Lax; Secure$/);
  const cookies = requestOf('/', { cookie: 'a=1; hangar_port_grant=t; b=2;' });
  assert.equal(appCookies(cookies), 'a=1; b=2');
  assert.equal(appCookies(requestOf('/', { cookie: 'hangar_port_grant=t' })), undefined);
});

test('port URLs follow the gateway’s public URL', () => {
  const urls = new PortUrls('ports.example.com');
  urls.setBase('https://gw.example.com:8443/');
  assert.equal(urls.pathUrl(env, 3000), `https://gw.example.com:8443/ports/${env}/3000/`);
  assert.equal(urls.hostUrl(env, 3000), `https://3000-${env}.ports.example.com:8443/`);
  assert.equal(urls.secure, true);
  const plain = new PortUrls(undefined);
  plain.setBase('http://127.0.0.1:7701');
  assert.equal(plain.hostUrl(env, 3000), undefined);
});

test('a port with a leading zero is refused, not read as another port', () => {
  const leading = (request: IncomingMessage, domain?: string) =>
    assert.throws(() => portTargetOf(request, domain), /without leading zeros/);
  leading(requestOf(`/ports/${env}/08080/`));
  leading(requestOf(`/ports/${env}/0080`));
  leading(requestOf('/', { host: `08080-${env}.ports.test` }), 'ports.test');
});
