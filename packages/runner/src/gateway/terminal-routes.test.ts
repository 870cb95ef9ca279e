import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { SandboxSpec } from '../providers/provider.js';
import { sandboxFixture, type SandboxFixture } from '../providers/sandbox/test-support.js';
import { startGateway } from './server.js';
import { eventually, gatewayDeps } from './stream-test-support.js';
import { TestTerminal } from './terminal-test-support.js';

// Terminals over the gateway's WebSocket, against a real sandbox.
let fixture: SandboxFixture;
let spec: SandboxSpec;
let setup: ReturnType<typeof gatewayDeps>;
let gateway: Awaited<ReturnType<typeof startGateway>>;

before(async () => {
  fixture = sandboxFixture();
  spec = fixture.spec();
  await fixture.provider.start(spec);
  setup = gatewayDeps(fixture.provider, join(fixture.root, 'runner'));
  gateway = await startGateway(setup.deps, { host: '127.0.0.1', port: 0 });
});

after(async () => {
  await gateway.close();
  await fixture.cleanup();
});

function open(options: { token?: string; start?: Record<string, unknown>; protocols?: string[] }) {
  return TestTerminal.connect({
    gatewayUrl: gateway.url,
    environmentId: spec.environmentId,
    token: options.token ?? setup.grant(spec.environmentId, ['terminal']),
    ...(options.start ? { start: options.start } : {}),
    ...(options.protocols ? { protocols: options.protocols } : {}),
  });
}

test('a terminal runs a login shell under a PTY, takes input and resizes', async () => {
  const terminal = await open({ start: { type: 'open', cols: 100, rows: 30 } });
  const ready = await terminal.waitForMessage('ready');
  assert.equal(ready.replayedFrom, 0);
  terminal.type('stty size; tty; echo "shell=$0"\r');
  await terminal.waitForText('30 100');
  await terminal.waitForText('/dev/pts/');
  const loginShell = /shell=\S*(bash|sh)\r?\n/;
  assert.ok(await eventually(async () => loginShell.test(terminal.output.toString())));
  terminal.sendText({ type: 'resize', cols: 120, rows: 40 });
  terminal.type('stty size\r');
  await terminal.waitForText('40 120');
  terminal.type('exit 3\r');
  const exit = await terminal.waitForMessage('exit');
  assert.equal(exit.exitCode, 3);
  assert.equal(await terminal.closed, 1000);
  const sessions = setup.audit.filter((record) => record.details.kind === 'terminal');
  assert.deepEqual(
    sessions.map((record) => record.action),
    ['session.start', 'session.end'],
  );
  assert.ok(Number(sessions[1]?.details.bytesIn) > 0, 'input bytes are counted');
  assert.ok(setup.deps.activity.lastActiveAt(spec.environmentId), 'input marks activity');
});

test('a terminal killed mid-session reattaches and sees the output it missed', async () => {
  const first = await open({ start: { type: 'open', cols: 80, rows: 24 } });
  const { processId } = await first.waitForMessage('ready');
  first.type('echo before-$((40+2))\r');
  await first.waitForText('before-42');
  await eventually(async () => first.message('offset') !== undefined);
  first.type('sleep 1; echo missed-$((6*7)); echo done-$((1+1))\r');
  await first.waitForText('sleep 1');
  const seen = first.offset;
  first.kill();
  await first.closed;

  await new Promise((resolve) => setTimeout(resolve, 1500));
  const again = await open({ start: { type: 'attach', processId, fromOffset: seen } });
  const ready = await again.waitForMessage('ready');
  assert.equal(ready.processId, processId);
  assert.equal(ready.replayedFrom, seen, 'the replay starts where the first client stopped');
  await again.waitForText('done-2');
  assert.ok(again.output.toString().includes('missed-42'), again.text());
  assert.ok(!again.output.toString().includes('before-42'), 'nothing already seen is sent');
  again.type('echo still-$((2+3))\r');
  await again.waitForText('still-5');
  again.type('exit\r');
  await again.waitForMessage('exit');
});

test('only the actor who opened a terminal may attach to it', async () => {
  const mine = await open({ start: { type: 'open', cols: 80, rows: 24 } });
  const { processId } = await mine.waitForMessage('ready');
  const token = setup.grant(spec.environmentId, ['terminal'], { actorId: 'usr_someoneelse1' });
  const theirs = await open({ token, start: { type: 'attach', processId, fromOffset: 0 } });
  const error = await theirs.waitForMessage('error');
  assert.equal(error.code, 'not_found');
  assert.equal(await theirs.closed, 1008);
  const unknown = await open({
    start: { type: 'attach', processId: 'prc_nosuchthing1', fromOffset: 0 },
  });
  assert.equal((await unknown.waitForMessage('error')).code, 'not_found');
  mine.type('exit\r');
  await mine.waitForMessage('exit');
});

test('bad start messages are refused with a message naming the field', async () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ type: 'open', cols: 0, rows: 24 }, /cols/],
    [{ type: 'open', cols: 80 }, /rows/],
    [{ type: 'launch' }, /not valid/],
    [{ type: 'open', cols: 80, rows: 24, shell: 'zsh' }, /shell/],
  ];
  for (const [start, expected] of cases) {
    const terminal = await open({});
    terminal.sendText(start as Record<string, unknown>);
    const error = await terminal.waitForMessage('error');
    assert.equal(error.code, 'invalid_request', JSON.stringify(start));
    assert.match(error.message ?? '', expected);
    assert.equal(await terminal.closed, 1008);
  }
  const binary = await open({});
  binary.type('hello');
  assert.equal((await binary.waitForMessage('error')).code, 'invalid_request');
});

test('the terminal needs a terminal grant for this environment', async () => {
  const refused = async (token: string) => {
    const error = await open({ token }).then(
      () => undefined,
      (failure: Error) => failure,
    );
    assert.ok(error, 'the upgrade is refused');
    return error.message;
  };
  assert.match(await refused(setup.grant(spec.environmentId, ['exec'])), /403/);
  assert.match(await refused(setup.grant('env_anotherone01', ['terminal'])), /403/);
  assert.match(await refused('hat1.bad.token'), /401/);
  const denied = setup.audit.filter((record) => record.action === 'access.denied');
  assert.ok(denied.length >= 3, 'refusals are audited');
});

test('a browser offers its grant as a subprotocol and gets the other one back', async () => {
  const token = setup.grant(spec.environmentId, ['terminal']);
  const terminal = await open({ protocols: ['hangar-terminal', `hangar-grant.${token}`] });
  assert.equal(terminal.protocol, 'hangar-terminal');
  terminal.sendText({
    type: 'open',
    cols: 80,
    rows: 24,
    command: ['sh', '-c', 'echo via-$((1+1))'],
  });
  await terminal.waitForText('via-2');
  assert.equal((await terminal.waitForMessage('exit')).exitCode, 0);
});
