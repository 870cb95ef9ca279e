import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EgressRule } from '@hangar/api';
import { parseAddress } from './address.js';
import { hostMatches, normalizeHost } from './host-pattern.js';
import { checkAddresses, checkDestination, compileRule } from './rules.js';

function address(text: string): Uint8Array {
  const bytes = parseAddress(text);
  assert.ok(bytes);
  return bytes;
}

function verdict(rule: EgressRule, host: string, port: number, resolved: string[] = []) {
  const compiled = compileRule(rule, 'egress (class small)');
  const first = checkDestination(compiled, host, port);
  if (!first.allowed) return first;
  return checkAddresses(compiled, host, port, resolved.map(address));
}

test('hosts are normalized before they are matched, and odd ones refused', () => {
  assert.equal(normalizeHost('Registry.Example.COM.'), 'registry.example.com');
  assert.equal(normalizeHost('[::FFFF:7f00:1]'), '127.0.0.1');
  assert.equal(normalizeHost('2001:DB8::1'), '2001:db8::1');
  assert.equal(normalizeHost('_service.example.com'), '_service.example.com');
  for (const bad of [
    '',
    'a b',
    'exa$mple.com',
    'a..b',
    '-a.com',
    '1.2.3',
    '0x7f.1',
    'fe80::1%lo',
  ]) {
    assert.equal(normalizeHost(bad), undefined, bad);
  }
  assert.equal(normalizeHost(`${'a'.repeat(64)}.com`), undefined);
});

test('host patterns: exact names, wildcard subdomains (not the apex), addresses', () => {
  assert.equal(hostMatches('example.com', 'example.com'), true);
  assert.equal(hostMatches('Example.COM', 'example.com'), true);
  assert.equal(hostMatches('example.com', 'www.example.com'), false);
  assert.equal(hostMatches('*.example.com', 'www.example.com'), true);
  assert.equal(hostMatches('*.example.com', 'a.b.example.com'), true);
  assert.equal(hostMatches('*.example.com', 'example.com'), false);
  assert.equal(hostMatches('*.example.com', 'badexample.com'), false);
  assert.equal(hostMatches('*.example.com', 'example.com.evil.test'), false);
  assert.equal(hostMatches('127.0.0.1', '127.0.0.1'), true);
  assert.equal(hostMatches('::1', '::1'), true);
  assert.equal(hostMatches('0:0:0:0:0:0:0:1', '::1'), true);
  assert.equal(hostMatches('127.0.0.1', 'localhost'), false);
  assert.equal(hostMatches('*.0.0.1', '127.0.0.1'), false);
});

test('mode none denies everything, naming the policy', () => {
  const result = verdict({ mode: 'none' }, 'example.com', 443);
  assert.deepEqual(result, {
    allowed: false,
    reason: 'egress policy egress (class small) (mode none) does not allow example.com:443',
  });
});

test('an allow-list allows its hosts on their ports, 443 and 80 when none are named', () => {
  const rule: EgressRule = {
    mode: 'allowlist',
    allow: [{ host: 'registry.example.com' }, { host: '*.pkg.example', ports: [8443] }],
  };
  assert.equal(verdict(rule, 'registry.example.com', 443, ['93.184.216.34']).allowed, true);
  assert.equal(verdict(rule, 'registry.example.com', 80, ['93.184.216.34']).allowed, true);
  const port = verdict(rule, 'registry.example.com', 22);
  assert.ok(!port.allowed);
  assert.match(port.reason, /does not allow registry\.example\.com:22: only port 80, 443/);
  assert.equal(verdict(rule, 'a.pkg.example', 8443, ['93.184.216.34']).allowed, true);
  assert.equal(verdict(rule, 'a.pkg.example', 443).allowed, false);
  const other = verdict(rule, 'evil.example', 443);
  assert.ok(!other.allowed);
  assert.match(other.reason, /\(mode allowlist\) does not allow evil\.example:443$/);
});

test('an allowed name that resolves to an inner address is refused unless allowPrivate covers it', () => {
  const rule: EgressRule = { mode: 'allowlist', allow: [{ host: 'internal.example' }] };
  const inner = verdict(rule, 'internal.example', 443, ['93.184.216.34', '10.0.0.5']);
  assert.ok(!inner.allowed);
  assert.match(inner.reason, /it resolves to 10\.0\.0\.5, a private address \(10\.0\.0\.0\/8\)/);
  const covered = verdict({ ...rule, allowPrivate: ['10.0.0.0/24'] }, 'internal.example', 443, [
    '10.0.0.5',
  ]);
  assert.equal(covered.allowed, true);
});

test('open mode allows any public address on any port, never an inner or metadata one', () => {
  assert.equal(verdict({ mode: 'open' }, 'example.com', 8080, ['93.184.216.34']).allowed, true);
  const loop = verdict({ mode: 'open' }, '127.0.0.1', 80, ['127.0.0.1']);
  assert.ok(!loop.allowed);
  assert.match(loop.reason, /127\.0\.0\.1:80: it is a loopback address \(127\.0\.0\.0\/8\)/);
  const meta = verdict({ mode: 'open', allowPrivate: ['169.254.0.0/16'] }, '169.254.169.254', 80, [
    '169.254.169.254',
  ]);
  assert.ok(!meta.allowed);
  assert.match(meta.reason, /a metadata address \(169\.254\.169\.254\/32\)/);
  const v6 = verdict({ mode: 'open' }, 'example.com', 443, ['fd00:ec2::254']);
  assert.equal(v6.allowed, false);
  const denied = verdict({ mode: 'open' }, '[::1]', 443, ['::1']);
  assert.equal(denied.allowed, false);
});

test('allowPrivate on localhost: the name and the address each allowed as listed', () => {
  const rule: EgressRule = {
    mode: 'allowlist',
    allow: [
      { host: 'localhost', ports: [8080] },
      { host: '127.0.0.1', ports: [8080] },
    ],
    allowPrivate: ['127.0.0.0/8'],
  };
  assert.equal(verdict(rule, 'localhost', 8080, ['127.0.0.1']).allowed, true);
  assert.equal(verdict(rule, '127.0.0.1', 8080, ['127.0.0.1']).allowed, true);
  assert.equal(verdict(rule, 'localhost', 8080, ['127.0.0.1', '::1']).allowed, false);
  assert.equal(verdict(rule, '127.0.0.2', 8080, ['127.0.0.2']).allowed, false);
});

test('a CIDR that does not parse is left out of a compiled rule, which only allows less', () => {
  const compiled = compileRule({ mode: 'open', allowPrivate: ['bogus', '10.0.0.0/8'] }, 'x');
  assert.deepEqual(
    compiled.allowPrivate.map((cidr) => cidr.text),
    ['10.0.0.0/8'],
  );
});
