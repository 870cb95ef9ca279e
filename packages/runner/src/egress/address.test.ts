import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  addressAllowed,
  classifyAddress,
  formatAddress,
  parseAddress,
  parseCidr,
  type Cidr,
} from './address.js';

function kindOf(text: string): string {
  const bytes = parseAddress(text);
  assert.ok(bytes, `${text} parses`);
  return classifyAddress(bytes).kind;
}

function cidrs(...texts: string[]): Cidr[] {
  return texts.map((text) => {
    const cidr = parseCidr(text);
    assert.ok(typeof cidr !== 'string', `${text}: ${JSON.stringify(cidr)}`);
    return cidr;
  });
}

/** The error text parseCidr gives; fails when the block parses. */
function problemOf(text: string): string {
  const cidr = parseCidr(text);
  assert.equal(typeof cidr, 'string', `${text} should not parse`);
  return cidr as string;
}

function allowed(address: string, allowPrivate: Cidr[] = []): boolean {
  const bytes = parseAddress(address);
  assert.ok(bytes);
  return addressAllowed(bytes, allowPrivate);
}

test('every IPv4 range that is not the public internet is classified', () => {
  const cases: Array<[string, string]> = [
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.0.0.1', 'private'],
    ['10.255.255.255', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.255', 'cgnat'],
    ['169.254.1.1', 'link-local'],
    ['192.0.0.8', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['198.51.100.7', 'reserved'],
    ['203.0.113.9', 'reserved'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'reserved'],
  ];
  for (const [address, kind] of cases) assert.equal(kindOf(address), kind, address);
});

test('the edges of the private ranges are public', () => {
  for (const address of ['172.15.255.255', '172.32.0.0', '100.63.255.255', '100.128.0.0']) {
    assert.equal(kindOf(address), 'public', address);
  }
  for (const address of ['1.1.1.1', '8.8.8.8', '11.0.0.1', '192.169.0.1', '223.255.255.255']) {
    assert.equal(kindOf(address), 'public', address);
  }
});

test('metadata addresses are their own class, ahead of the range around them', () => {
  for (const address of [
    '169.254.169.254',
    '169.254.170.2',
    '169.254.169.253',
    '100.100.100.200',
    '192.0.0.192',
    'fd00:ec2::254',
    'fd00:ec2:0::23',
  ]) {
    assert.equal(kindOf(address), 'metadata', address);
  }
});

test('every IPv6 range that is not the public internet is classified', () => {
  const cases: Array<[string, string]> = [
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['::7f00:1', 'reserved'],
    ['64:ff9b:1::1', 'private'],
    ['100::1', 'reserved'],
    ['2001:db8::1', 'reserved'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'reserved'],
    ['fc00::1', 'unique-local'],
    ['fdff:ffff::1', 'unique-local'],
    ['fe80::1', 'link-local'],
    ['febf::1', 'link-local'],
    ['fec0::1', 'private'],
    ['ff02::1', 'multicast'],
  ];
  for (const [address, kind] of cases) assert.equal(kindOf(address), kind, address);
  assert.equal(kindOf('2606:4700::1111'), 'public');
  assert.equal(kindOf('2a00:1450::1'), 'public');
});

test('IPv4 inside IPv6 (mapped, NAT64, 6to4) is judged as the IPv4 address it carries', () => {
  assert.equal(kindOf('::ffff:127.0.0.1'), 'loopback');
  assert.equal(kindOf('::ffff:7f00:1'), 'loopback');
  assert.equal(kindOf('::ffff:169.254.169.254'), 'metadata');
  assert.equal(kindOf('::ffff:10.1.2.3'), 'private');
  assert.equal(kindOf('::ffff:8.8.8.8'), 'public');
  assert.equal(kindOf('64:ff9b::a9fe:a9fe'), 'metadata');
  assert.equal(kindOf('::ffff:0:7f00:1'), 'loopback', 'IPv4-translated, RFC 2765');
  assert.equal(kindOf('::ffff:0:a9fe:a9fe'), 'metadata');
  assert.equal(kindOf('64:ff9b::10.0.0.1'), 'private');
  assert.equal(kindOf('64:ff9b::8.8.8.8'), 'public');
  assert.equal(kindOf('2002:7f00:1::'), 'loopback');
  assert.equal(kindOf('2002:0808:0808::1'), 'public');
});

test('addresses parse in every spelling and print canonically', () => {
  assert.equal(formatAddress(parseAddress('[::1]') ?? new Uint8Array()), '::1');
  assert.equal(formatAddress(parseAddress('fe80::1%eth0') ?? new Uint8Array()), 'fe80::1');
  assert.equal(
    formatAddress(parseAddress('2001:DB8:0:0:1:0:0:1') ?? new Uint8Array()),
    '2001:db8::1:0:0:1',
  );
  assert.equal(formatAddress(parseAddress('::ffff:7f00:1') ?? new Uint8Array()), '127.0.0.1');
  for (const bad of [
    '',
    '1.2.3',
    '1.2.3.256',
    '01.2.3.4',
    '1.2.3.4.5',
    'example.com',
    ':::',
    '1::2::3',
  ]) {
    assert.equal(parseAddress(bad), undefined, bad);
  }
});

test('CIDR blocks parse, and bad ones say why', () => {
  assert.deepEqual(
    cidrs('10.0.0.0/8', '127.0.0.1', 'fd00::/8', '::/0').map((cidr) => [cidr.text, cidr.bits]),
    [
      ['10.0.0.0/8', 104],
      ['127.0.0.1/32', 128],
      ['fd00::/8', 8],
      ['::/0', 0],
    ],
  );
  assert.match(problemOf('10.0.0.1/8'), /host bits set; write 10\.0\.0\.0\/8/);
  assert.match(problemOf('10.0.0.0/33'), /prefix outside 0\.\.32/);
  assert.match(problemOf('fd00::/129'), /prefix outside 0\.\.128/);
  assert.match(problemOf('nonsense/8'), /is not a CIDR block/);
  assert.match(problemOf('10.0.0.0/08'), /prefix outside/);
  assert.match(problemOf('[::1]/128'), /is not a CIDR block/);
});

test('allowPrivate opens what it covers, and a metadata address only when named exactly', () => {
  assert.equal(allowed('8.8.8.8'), true);
  assert.equal(allowed('127.0.0.1'), false);
  assert.equal(allowed('127.0.0.1', cidrs('127.0.0.0/8')), true);
  assert.equal(allowed('::ffff:127.0.0.1', cidrs('127.0.0.0/8')), true);
  assert.equal(allowed('::1', cidrs('127.0.0.0/8')), false);
  assert.equal(allowed('10.1.2.3', cidrs('10.1.0.0/16')), true);
  assert.equal(allowed('10.2.0.1', cidrs('10.1.0.0/16')), false);
  assert.equal(allowed('fd12::1', cidrs('fc00::/7')), true);
  assert.equal(allowed('169.254.169.254', cidrs('169.254.0.0/16')), false);
  assert.equal(allowed('169.254.169.254', cidrs('0.0.0.0/0', '::/0')), false);
  assert.equal(allowed('169.254.169.254', cidrs('169.254.169.254/32')), true);
  assert.equal(allowed('fd00:ec2::254', cidrs('fc00::/7')), false);
  assert.equal(allowed('64:ff9b::a9fe:a9fe', cidrs('64:ff9b::/96')), false);
});
