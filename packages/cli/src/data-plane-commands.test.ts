import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { ProcessInfoBody } from '@hangar/api';
import { addUser } from '@hangar/control-plane/testing/users.js';
import type { RunningRunner } from '@hangar/runner';
import { requestAccess } from './gateway.js';
import { HttpClient } from './http-client.js';
import { TerminalClient } from './terminal-client.js';
import { type CaptureOptions, runMain } from './testing/capture-io.js';
import { startTestControlPlane, type TestControlPlane } from './testing/control-plane.js';
import { startTestRunner } from './testing/runner.js';

let cp: TestControlPlane;
let runner: RunningRunner;
let root: string;
let environmentId: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'hangar-cli-dataplane-'));
  await chmod(root, 0o755);
  cp = await startTestControlPlane();
  runner = await startTestRunner(cp, { name: 'dataplane', dataDir: join(root, 'runner') });
  const created = await run(['env', 'create', '--name', 'work', '--wait', '--json']);
  assert.equal(created.code, 0, created.stderr);
  environmentId = (JSON.parse(created.stdout) as { id: string }).id;
});

after(async () => {
  await run(['env', 'delete', 'work', '--wait']).catch(() => undefined);
  await runner?.close();
  await cp?.close();
  await rm(root, { recursive: true, force: true });
});

function run(argv: string[], options: CaptureOptions = {}) {
  return runMain(argv, { env: cp.env, cwd: root, ...options });
}

/** A TCP relay to the gateway whose connections a test can cut, as a network drop would. */
async function cuttableRelay(target: string) {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = createConnection({ host: hostname, port: Number(port) });
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    cut: () => {
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('data-plane commands against a real runner', () => {
  it('env exec --detach starts a command that ps, wait and attach find later', async () => {
    const started = await run([
      'env',
      'exec',
      'work',
      '--detach',
      '--',
      'sh',
      '-c',
      'echo out-$((40+2)); echo err-1 >&2; sleep 1; exit 3',
    ]);
    assert.equal(started.code, 0, started.stderr);
    const id = started.stdout.trim();
    assert.match(id, /^[A-Za-z0-9_.-]+$/);
    assert.match(started.stderr, /hangar env attach/);

    const ps = await run(['env', 'ps', 'work']);
    assert.match(ps.stdout, new RegExp(`^${id} +command +running`, 'm'));
    const waited = await run(['env', 'wait', 'work', id]);
    assert.equal(waited.code, 3, waited.stderr);
    const attached = await run(['env', 'attach', 'work', id]);
    assert.equal(attached.code, 3, attached.stderr);
    assert.equal(attached.stdout, 'out-42\n');
    assert.equal(attached.stderr, 'err-1\n');
    const listed = await run(['env', 'ps', 'work', '--json']);
    const { processes } = JSON.parse(listed.stdout) as { processes: ProcessInfoBody[] };
    assert.equal(processes.find((info) => info.id === id)?.exitCode, 3);
  });

  it('env kill signals a command, env wait gives up while it runs', async () => {
    const started = await run(['env', 'exec', 'work', '--detach', '--json', '--', 'sleep', '600']);
    const { id } = JSON.parse(started.stdout) as ProcessInfoBody;
    const early = await run(['env', 'wait', 'work', id, '--timeout', '0']);
    assert.equal(early.code, 75);
    assert.match(early.stderr, /still running/);
    const killed = await run(['env', 'kill', 'work', id, '--signal', 'int']);
    assert.equal(killed.code, 0, killed.stderr);
    assert.match(killed.stdout, /sent SIGINT/);
    assert.equal((await run(['env', 'wait', 'work', id])).code, 130);
  });

  it('refuses bad arguments with a usage error naming them', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['env', 'kill', 'work', 'bad id!'], /not a process id/],
      [['env', 'kill', 'work', 'prc_abc', '--signal', 'BOOM'], /--signal BOOM/],
      [['env', 'exec', 'work', '--detach', '--stdin', '--', 'true'], /--detach takes no stdin/],
      [['env', 'exec', 'work', '--timeout', '2d', '--', 'true'], /at most 86400 s/],
      [['env', 'exec', 'work', '--timeout', '8d', '--detach', '--', 'true'], /--timeout/],
      [['env', 'terminal', 'work', '--attach', 'prc_abc', '--', 'ls'], /no command/],
      [['env', 'terminal', 'work', '--json'], /--json does not apply/],
      [['env', 'terminal', 'work'], /needs a terminal on stdin/],
      [['env', 'exec', 'work', '--timeout', '30d', '--detach', '--', 'true'], /15m or 12h, got/],
      [['env', 'attach', 'work', 'prc_abc', '--new', '--from', '3'], /contradict/],
      [['port', 'open', 'work', '70000'], /port number/],
    ];
    for (const [argv, expected] of cases) {
      const result = await run(argv);
      assert.equal(result.code, 2, `${argv.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, expected, argv.join(' '));
    }
    const gone = await run(['env', 'wait', 'work', 'prc_nosuchthing1']);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /not_found/);
  });

  it('env terminal runs a command under a PTY and exits with its code', async () => {
    const result = await run(['env', 'terminal', 'work', '--', 'sh', '-c', 'tty; exit 5']);
    assert.equal(result.code, 5, result.stderr);
    assert.match(result.stdout, /\/dev\/pts\//);
  });

  it('env terminal takes piped input and ends it like ^D', async () => {
    // `cat` reads the terminal line by line from its start, so ^D is end-of-file to it.
    const result = await run(['env', 'terminal', 'work', '--', 'cat'], { stdin: 'piped-9\r' });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /piped-9\r\n/);
  });

  it('a terminal whose connection drops reattaches by itself and shows what it missed', async () => {
    const relay = await cuttableRelay(runner.gatewayUrl);
    const api = new HttpClient({ baseUrl: cp.url, token: cp.token, service: 'control plane' });
    const stdin = new PassThrough();
    let output = '';
    const notices: string[] = [];
    const stdout = new Writable({
      write(chunk: Buffer, _encoding, done) {
        output += chunk.toString();
        done();
      },
    });
    const client = new TerminalClient({
      access: async () => ({
        ...(await requestAccess(api, environmentId, ['terminal'])),
        gatewayUrl: relay.url,
      }),
      stdin,
      stdout,
      size: () => ({ cols: 80, rows: 24 }),
      onResize: () => () => undefined,
      notice: (message) => notices.push(message),
      retryDelayMs: 50,
    });
    const exited = client.run();
    const until = async (check: () => boolean) => {
      for (let i = 0; i < 200 && !check(); i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.ok(check(), `timed out; output so far: ${JSON.stringify(output)}`);
    };
    stdin.write('echo first-$((1+1))\r');
    await until(() => output.includes('first-2'));
    stdin.write('sleep 1; echo missed-$((6*7))\r');
    await until(() => output.includes('sleep 1'));
    relay.cut();
    await until(() => output.includes('missed-42'));
    await until(() => notices.includes('hangar: reattached'));
    stdin.write('exit 4\r');
    const exit = await exited;
    assert.equal(exit.exitCode, 4);
    assert.equal(output.split('first-2').length - 1, 1, 'output seen before is not replayed');
    await relay.close();
  });

  it('a terminal forwards window size changes', async () => {
    const api = new HttpClient({ baseUrl: cp.url, token: cp.token, service: 'control plane' });
    const stdin = new PassThrough();
    let output = '';
    let size = { cols: 100, rows: 30 };
    let onResize: () => void = () => undefined;
    const client = new TerminalClient({
      access: () => requestAccess(api, environmentId, ['terminal']),
      stdin,
      stdout: new Writable({
        write(chunk: Buffer, _encoding, done) {
          output += chunk.toString();
          done();
        },
      }),
      size: () => size,
      onResize: (listener) => {
        onResize = listener;
        return () => undefined;
      },
      notice: () => undefined,
    });
    const exited = client.run();
    const until = async (text: string) => {
      for (let i = 0; i < 200 && !output.includes(text); i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.ok(output.includes(text), `never saw ${text}: ${JSON.stringify(output)}`);
    };
    stdin.write('stty size\r');
    await until('30 100');
    size = { cols: 132, rows: 43 };
    onResize();
    stdin.write('stty size\r');
    await until('43 132');
    stdin.write('exit\r');
    assert.equal((await exited).exitCode, 0);
  });

  it('env ports lists a listening port and port open gives a link that opens it', async () => {
    const server =
      'require("http").createServer((q, s) => s.end("hello-port")).listen(8123, "127.0.0.1")';
    const started = await run([
      'env',
      'exec',
      'work',
      '--detach',
      '--',
      '/run/hangar/node',
      '-e',
      server,
    ]);
    assert.equal(started.code, 0, started.stderr);
    let ports = await run(['env', 'ports', 'work']);
    for (let i = 0; i < 100 && !ports.stdout.includes('8123'); i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      ports = await run(['env', 'ports', 'work']);
    }
    assert.match(ports.stdout, /^8123 +loopback +\S*node +private/m);
    const opened = await run(['port', 'open', 'work', '8123']);
    assert.equal(opened.code, 0, opened.stderr);
    const link = opened.stdout.trim();
    assert.match(link, /\/ports\/env_\w+\/8123\/\?hangar_grant=hat1\./);
    const exchanged = await fetch(link, { redirect: 'manual' });
    assert.equal(exchanged.status, 303);
    const cookie = (exchanged.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const page = await fetch(new URL(exchanged.headers.get('location') ?? '/', link), {
      headers: { cookie },
    });
    assert.equal(await page.text(), 'hello-port');

    // A member who does not own the environment opens its org-shared port by the id.
    const member = await addUser(cp.cp.context, { orgId: cp.orgId, role: 'member' });
    const asMember = { env: { HANGAR_URL: cp.url, HANGAR_TOKEN: member.token } };
    const refused = await run(['port', 'open', environmentId, '8123'], asMember);
    assert.equal(refused.code, 1, 'private: only the owner');
    const shared = await run(['port', 'share', 'work', '8123', '--level', 'org']);
    assert.equal(shared.code, 0, shared.stderr);
    const memberLink = await run(['port', 'open', environmentId, '8123'], asMember);
    assert.equal(memberLink.code, 0, memberLink.stderr);
    assert.match(memberLink.stdout, /\/ports\/env_\w+\/8123\/\?hangar_grant=hat1\./);
    await run(['env', 'kill', 'work', started.stdout.trim()]);
  });
});
