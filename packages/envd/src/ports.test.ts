import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  decodeAddress,
  listListeningPorts,
  mergeListeners,
  parseProcNetTcp,
  socketOwners,
} from './ports.js';

const header = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid';

/** One line as the kernel prints it, with the columns the parser ignores filled in. */
function line(local: string, state: string, inode: number): string {
  const queues = '00000000:00000000 00:00000000 00000000';
  return `   0: ${local} 00000000:0000 ${state} ${queues}  1000        0 ${inode} 1 0 100 0 0 10 0`;
}

// As a little-endian kernel prints them: listeners (st 0A) and others that are skipped.
const tcp4 = [
  header,
  line('0100007F:0BB8', '0A', 4101),
  line('00000000:1F90', '0A', 4102),
  line('0100007F:0BB8', '01', 4103),
  line('0101007F:1F91', '0A', 4104),
  '   4: garbage',
  '',
].join('\n');

const tcp6 = [
  header,
  line('00000000000000000000000001000000:0BB9', '0A', 4201),
  line('00000000000000000000000000000000:1F90', '0A', 4202),
  line('0000000000000000FFFF00000100007F:0BBA', '0A', 4203),
  line('000080FE00000000FF005452DEB2D5FE:0016', '0A', 4204),
].join('\n');

test('listening lines are read, other states and garbage skipped', () => {
  assert.deepEqual(parseProcNetTcp(tcp4, true), [
    { family: 'ipv4', address: '127.0.0.1', port: 3000, inode: 4101 },
    { family: 'ipv4', address: '0.0.0.0', port: 8080, inode: 4102 },
    { family: 'ipv4', address: '127.0.1.1', port: 8081, inode: 4104 },
  ]);
  assert.deepEqual(
    parseProcNetTcp(tcp6, true).map(({ address, port }) => `${address} ${port}`),
    ['::1 3001', ':: 8080', '::ffff:127.0.0.1 3002', 'fe80::5254:ff:fed5:b2de 22'],
  );
  assert.deepEqual(parseProcNetTcp('', true), []);
  assert.deepEqual(parseProcNetTcp(`${header}\n   0: 0100007F:XYZW 0 0A 0 0 0 0 0 1`, true), []);
});

test('addresses follow the byte order of the machine that printed them', () => {
  assert.deepEqual(decodeAddress('0100007F', true), { family: 'ipv4', address: '127.0.0.1' });
  assert.deepEqual(decodeAddress('7F000001', false), { family: 'ipv4', address: '127.0.0.1' });
  assert.deepEqual(decodeAddress('00000000000000000000000000000001', false), {
    family: 'ipv6',
    address: '::1',
  });
  assert.deepEqual(decodeAddress('20010DB8000000000000000000000001', false), {
    family: 'ipv6',
    address: '2001:db8::1',
  });
  assert.deepEqual(decodeAddress('20010DB8000100000001000000000001', false), {
    family: 'ipv6',
    address: '2001:db8:1:0:1::1',
  });
  assert.equal(decodeAddress('0100007', true), undefined);
  assert.equal(decodeAddress('zz00007F', true), undefined);
});

test('one entry per address and port, loopback told from all addresses', () => {
  const entries = [
    ...parseProcNetTcp(tcp4, true),
    ...parseProcNetTcp(tcp6, true),
    { family: 'ipv4' as const, address: '0.0.0.0', port: 8080, inode: 4999 },
  ];
  const owners = new Map([
    [4101, { pid: 10, command: 'node' }],
    [4999, { pid: 11, command: 'python3' }],
  ]);
  const ports = mergeListeners(entries, owners);
  const summary = ports.map(
    (port) =>
      `${port.family} ${port.address} ${port.port} ${port.loopbackOnly ? 'lo' : 'all'} ` +
      `${port.process?.command ?? '-'}`,
  );
  assert.deepEqual(summary, [
    'ipv6 fe80::5254:ff:fed5:b2de 22 all -',
    'ipv4 127.0.0.1 3000 lo node',
    'ipv6 ::1 3001 lo -',
    'ipv6 ::ffff:127.0.0.1 3002 lo -',
    'ipv4 0.0.0.0 8080 all python3',
    'ipv6 :: 8080 all -',
    'ipv4 127.0.1.1 8081 lo -',
  ]);
});

test('socket inodes are mapped to the lowest pid holding them, with its name', () => {
  const root = mkdtempSync(join(tmpdir(), 'hangar-envd-ports-'));
  try {
    const processes: Array<{ pid: number; comm: string; fds: Record<string, string> }> = [
      { pid: 7, comm: 'server\n', fds: { '3': 'socket:[4101]', '4': '/dev/null' } },
      { pid: 12, comm: 'child\n', fds: { '5': 'socket:[4101]', '6': 'socket:[4102]' } },
      { pid: 30, comm: 'other\n', fds: { '0': 'pipe:[77]' } },
    ];
    for (const { pid, comm, fds } of processes) {
      mkdirSync(join(root, String(pid), 'fd'), { recursive: true });
      writeFileSync(join(root, String(pid), 'comm'), comm);
      for (const [fd, target] of Object.entries(fds)) {
        symlinkSync(target, join(root, String(pid), 'fd', fd));
      }
    }
    mkdirSync(join(root, 'net'));
    writeFileSync(join(root, 'net', 'tcp'), tcp4);
    const owners = socketOwners(new Set([4101, 4102, 4103]), root);
    assert.deepEqual(owners.get(4101), { pid: 7, command: 'server' });
    assert.deepEqual(owners.get(4102), { pid: 12, command: 'child' });
    assert.equal(owners.has(4103), false);
    const listed = listListeningPorts(root);
    assert.deepEqual(
      listed.map((port) => [port.port, port.process?.pid ?? null]),
      [
        [3000, 7],
        [8080, 12],
        [8081, null],
      ],
      'a missing tcp6 file means no IPv6 listeners',
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
