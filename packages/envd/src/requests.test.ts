import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { test } from 'node:test';
import { isAllowedSignal, signalName } from './process-group.js';
import {
  parseAttachRequest,
  parseProcessRef,
  parseResize,
  parseSignalRequest,
  parseSpawnRequest,
  parseTcpConnectRequest,
} from './requests.js';
import { dialTarget, isLoopbackAddress } from './tcp.js';

const refused = (pattern: RegExp) => ({ code: 'invalid_request', message: pattern });

test('a spawn request is checked field by field, naming the field', () => {
  assert.deepEqual(
    parseSpawnRequest({
      command: ['bash', '-l'],
      pty: { cols: 120, rows: 40, term: 'xterm-256color' },
      unattachedGraceMs: 0,
      labels: { kind: 'terminal', 'actor.id': 'usr_123' },
    }),
    {
      command: ['bash', '-l'],
      env: {},
      pty: { cols: 120, rows: 40, term: 'xterm-256color' },
      unattachedGraceMs: 0,
      labels: { kind: 'terminal', 'actor.id': 'usr_123' },
    },
  );
  const cases: Array<[unknown, RegExp]> = [
    [null, /must be an object/],
    [{ command: [] }, /command must be a non-empty list/],
    [{ command: ['a\0b'] }, /without NUL/],
    [{ command: ['sh'], stdin: true }, /stdin is not a known field/],
    [{ command: ['sh'], timeoutMs: 0 }, /timeoutMs must be a positive number/],
    [{ command: ['sh'], unattachedGraceMs: -1 }, /unattachedGraceMs/],
    [{ command: ['sh'], unattachedGraceMs: 1.5 }, /unattachedGraceMs/],
    [{ command: ['sh'], pty: { cols: 0, rows: 24 } }, /pty\.cols must be a whole number/],
    [{ command: ['sh'], pty: { cols: 80, rows: 10_001 } }, /pty\.rows must be at most/],
    [{ command: ['sh'], pty: { cols: 80, rows: 24, term: 'x; rm' } }, /pty\.term/],
    [{ command: ['sh'], pty: { cols: 80, rows: 24, echo: true } }, /pty\.echo is not a known/],
    [{ command: ['sh'], labels: { 'bad key': 'x' } }, /labels: "bad key"/],
    [{ command: ['sh'], labels: { kind: 7 } }, /labels\.kind must be a string/],
    [{ command: ['sh'], labels: { kind: 'a\u001b[2J' } }, /control characters/],
    [{ command: ['sh'], labels: { kind: 'x'.repeat(257) } }, /at most 256/],
    [{ command: ['sh', 'x'.repeat(70_000)] }, /put it in a script/],
  ];
  for (const [body, message] of cases) {
    assert.throws(() => parseSpawnRequest(body), refused(message), JSON.stringify(body));
  }
  const labels = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v']));
  assert.throws(() => parseSpawnRequest({ command: ['sh'], labels }), refused(/at most 16/));
});

test('process ids, offsets, signals and sizes are checked', () => {
  const id = 'prc_0123456789abcdef';
  assert.deepEqual(parseAttachRequest({ id }), { id });
  assert.deepEqual(parseAttachRequest({ id, fromOffset: 0 }), { id, fromOffset: 0 });
  assert.throws(() => parseAttachRequest({ id, fromOffset: -1 }), refused(/fromOffset/));
  assert.throws(() => parseAttachRequest({ id, fromOffset: 1.5 }), refused(/fromOffset/));
  assert.throws(() => parseAttachRequest({ id: '../etc' }), refused(/id must be a process id/));
  assert.throws(() => parseProcessRef({}, 'wait'), refused(/^wait: id must be/));
  assert.deepEqual(parseSignalRequest({ id, signal: 'SIGINT' }), { id, signal: 'SIGINT' });
  for (const signal of ['SIGSEGV', 'KILL', 9, 'sigterm', '']) {
    assert.throws(() => parseSignalRequest({ id, signal }), refused(/signal must be one of/));
  }
  assert.equal(isAllowedSignal('SIGKILL'), true);
  assert.equal(signalName(15), 'SIGTERM');
  assert.equal(signalName(0), null);
  assert.deepEqual(parseResize({ cols: 100, rows: 40 }), { cols: 100, rows: 40 });
  assert.throws(() => parseResize({ cols: 100 }), refused(/rows must be a whole number/));
});

test('TCP targets: a port, and a host that is loopback or this environment', () => {
  assert.deepEqual(parseTcpConnectRequest({ port: 3000 }), { port: 3000 });
  for (const port of [0, 65_536, 80.5, '80']) {
    assert.throws(() => parseTcpConnectRequest({ port }), refused(/port must be/));
  }
  assert.throws(() => parseTcpConnectRequest({ port: 80, host: '' }), refused(/host/));

  assert.deepEqual(dialTarget(undefined), { host: '127.0.0.1', named: false });
  assert.deepEqual(dialTarget('127.0.0.53'), { host: '127.0.0.53', named: false });
  assert.deepEqual(dialTarget('[::1]'), { host: '::1', named: false });
  assert.deepEqual(dialTarget('localhost'), { host: 'localhost', named: true });
  assert.deepEqual(dialTarget(hostname()), { host: hostname(), named: true });
  for (const host of ['192.0.2.1', '0.0.0.0', '::', '::ffff:192.0.2.1', 'example.invalid']) {
    assert.throws(() => dialTarget(host), refused(/loopback|not this environment/), host);
  }
  assert.equal(isLoopbackAddress('::ffff:127.0.0.1'), true);
  assert.equal(isLoopbackAddress('128.0.0.1'), false);
});
