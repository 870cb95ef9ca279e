import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAbsoluteUrl, parseAuthority, proxyCredential } from './request-target.js';

test('CONNECT authorities: host:port, [v6]:port, nothing else', () => {
  assert.deepEqual(parseAuthority('Example.com:443'), {
    ok: true,
    value: { host: 'example.com', port: 443 },
  });
  assert.deepEqual(parseAuthority('[::1]:8443'), { ok: true, value: { host: '::1', port: 8443 } });
  for (const bad of [
    'example.com',
    'example.com:0',
    'example.com:65536',
    ':443',
    '::1:443',
    'a b:1',
    'x:1:2',
    '',
  ]) {
    assert.equal(parseAuthority(bad).ok, false, bad);
  }
});

test('absolute http URLs give host, port and the path that only goes upstream', () => {
  assert.deepEqual(parseAbsoluteUrl('http://Example.com/a/b?secret=1'), {
    ok: true,
    value: { host: 'example.com', port: 80, path: '/a/b?secret=1' },
  });
  assert.deepEqual(parseAbsoluteUrl('http://[::1]:8080/'), {
    ok: true,
    value: { host: '::1', port: 8080, path: '/' },
  });
  const https = parseAbsoluteUrl('https://example.com/');
  assert.ok(!https.ok);
  assert.match(https.message, /CONNECT/);
  assert.equal(parseAbsoluteUrl('/relative').ok, false);
  assert.equal(parseAbsoluteUrl('http://exa mple.com/').ok, false);
  assert.equal(parseAbsoluteUrl('http://example.com:99999/').ok, false);
});

test('proxy credentials: Basic for the user agent only, and a wrong header is not ignored', () => {
  const basic = (text: string) => `Basic ${Buffer.from(text).toString('base64')}`;
  assert.equal(proxyCredential(undefined), undefined);
  assert.equal(proxyCredential(basic('agent:s3cret')), 's3cret');
  assert.equal(proxyCredential(basic('agent:with:colon')), 'with:colon');
  assert.equal(proxyCredential(basic('someone:s3cret')), null);
  assert.equal(proxyCredential('Bearer abc'), null);
  assert.equal(proxyCredential(basic('agent')), null);
  assert.equal(proxyCredential(`Basic ${'A'.repeat(2000)}`), null);
});
