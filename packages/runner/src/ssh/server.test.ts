import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import ssh2, { type Client, type ClientChannel } from 'ssh2';
import type { AccessClaims } from '@hangar/api';
import { generateEd25519Key, loadHostKey } from './host-key.js';
import { startSshServer, type RunningSshServer } from './server.js';
import { serveSession } from './session-channel.js';
import { LocalEnvd, sshTestDeps } from './test-support.js';

const run = promisify(execFile);
let dir: string;
let workDir: string;
let envd: LocalEnvd;
let context: ReturnType<typeof sshTestDeps>;
let server: RunningSshServer;
const userKey = generateEd25519Key('test');

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hangar-ssh-server-'));
  workDir = join(dir, 'work');
  await mkdir(workDir);
  envd = new LocalEnvd(workDir);
  context = sshTestDeps(envd);
  server = await startSshServer(context.deps, {
    host: '127.0.0.1',
    port: 0,
    hostKey: await loadHostKey(dir),
    limits: { closeGraceMs: 200 },
  });
});

after(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

function connectClient(options: { username?: string; privateKey?: string } = {}): Promise<Client> {
  const client = new ssh2.Client();
  return new Promise((resolve, reject) => {
    client.once('ready', () => resolve(client));
    client.once('error', reject);
    client.connect({
      host: '127.0.0.1',
      port: server.port,
      username: options.username ?? context.environmentId,
      privateKey: options.privateKey ?? userKey.private,
      hostVerifier: (key: Buffer) => key.toString('base64') === server.hostKeys[0]?.split(' ')[1],
    });
  });
}

interface Ran {
  stdout: Buffer;
  stderr: Buffer;
  code: number | null;
  signal: string | undefined;
}

function collect(channel: ClientChannel, input?: Buffer): Promise<Ran> {
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  let code: number | null = null;
  let signal: string | undefined;
  channel.on('data', (chunk: Buffer) => stdout.push(chunk));
  channel.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  channel.on('exit', (exitCode: number | null, exitSignal?: string) => {
    code = exitCode;
    signal = exitSignal;
  });
  if (input) channel.end(input);
  return new Promise((resolve) =>
    channel.on('close', () =>
      resolve({ stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr), code, signal }),
    ),
  );
}

function exec(
  client: Client,
  command: string,
  options: { input?: Buffer; env?: Record<string, string> } = {},
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    client.exec(command, { env: options.env ?? {} }, (error, channel) => {
      if (error) return reject(error);
      resolve(collect(channel, options.input ?? Buffer.alloc(0)));
    });
  });
}

async function withClient<T>(use: (client: Client) => Promise<T>): Promise<T> {
  const client = await connectClient();
  try {
    return await use(client);
  } finally {
    client.end();
  }
}

test('a command returns its output on stdout and stderr, and its exit status', () =>
  withClient(async (client) => {
    const ran = await exec(client, 'echo out; echo err >&2; exit 7');
    assert.equal(ran.stdout.toString(), 'out\n');
    assert.equal(ran.stderr.toString(), 'err\n');
    assert.equal(ran.code, 7);
    const killed = await exec(client, 'kill -TERM $$');
    assert.equal(killed.code, null);
    assert.equal(killed.signal, 'SIGTERM', 'sent as TERM; the ssh2 client names it SIGTERM');
  }));

test('stdin reaches the command and 8 MiB of output come back intact', () =>
  withClient(async (client) => {
    const input = randomBytes(8 * 1024 * 1024);
    const ran = await exec(client, 'cat', { input });
    assert.equal(ran.code, 0);
    assert.equal(ran.stdout.length, input.length);
    assert.ok(ran.stdout.equals(input));
  }));

test('the command runs through the shell with remoteEnv and only LANG, LC_* and TERM', () =>
  withClient(async (client) => {
    const env = { LANG: 'C.UTF-8', LC_TIME: 'C', TERM: 'dumb', PATH: '/evil', LD_PRELOAD: 'x.so' };
    const ran = await exec(client, 'env', { env });
    const seen = ran.stdout.toString();
    assert.match(seen, /^LANG=C\.UTF-8$/m);
    assert.match(seen, /^LC_TIME=C$/m);
    assert.match(seen, /^TERM=dumb$/m);
    assert.match(seen, /^FROM_REMOTE_ENV=yes$/m);
    assert.doesNotMatch(seen, /LD_PRELOAD|\/evil/);
    const last = envd.execs.at(-1);
    assert.deepEqual(last?.command.slice(0, 2), ['/bin/sh', '-c']);
    assert.equal(last?.command.at(-1), 'env');
    assert.equal(last?.timeoutMs, undefined, 'an ssh command has no timeout');
  }));

test('a command is audited by its digest; its text stays in the runner command log', () =>
  withClient(async (client) => {
    const marker = `marker-${randomBytes(4).toString('hex')}`;
    await exec(client, `echo ${marker}`);
    const execs = context.audit.filter((record) => record.action === 'environment.exec');
    assert.ok(execs.length >= 2);
    assert.ok(!JSON.stringify(context.audit).includes(marker));
    assert.ok(JSON.stringify(context.commands).includes(marker));
  }));

test('sftp runs the real sftp-server: list, upload and download, as a session of its own', () =>
  withClient(async (client) => {
    await writeFile(join(workDir, 'present.txt'), 'here');
    const sftp = await new Promise<ssh2.SFTPWrapper>((resolve, reject) =>
      client.sftp((error, wrapper) => (error ? reject(error) : resolve(wrapper))),
    );
    const names = await new Promise<string[]>((resolve, reject) =>
      sftp.readdir('.', (error, list) =>
        error ? reject(error) : resolve(list.map((entry) => entry.filename)),
      ),
    );
    assert.ok(names.includes('present.txt'));
    const payload = randomBytes(3 * 1024 * 1024);
    await writeFile(join(dir, 'upload.bin'), payload);
    await promisify(sftp.fastPut.bind(sftp))(join(dir, 'upload.bin'), 'uploaded.bin');
    await promisify(sftp.fastGet.bind(sftp))('uploaded.bin', join(dir, 'download.bin'));
    const digest = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
    assert.equal(digest(await readFile(join(workDir, 'uploaded.bin'))), digest(payload));
    assert.equal(digest(await readFile(join(dir, 'download.bin'))), digest(payload));
    sftp.end();
    await waitFor(() => ended('sftp').length > 0);
    const end = ended('sftp')[0];
    assert.ok(Number(end?.details.bytesIn) > payload.length);
    assert.ok(Number(end?.details.bytesOut) > payload.length);
  }));

function ended(kind: string) {
  return context.audit.filter(
    (record) => record.action === 'session.end' && record.details.kind === kind,
  );
}

async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i += 1) await new Promise((r) => setTimeout(r, 25));
  assert.ok(check(), 'the condition never held');
}

test('a forwarded port reaches loopback inside the environment; other hosts are refused', async () => {
  const echo: NetServer = createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  const port = (echo.address() as { port: number }).port;
  try {
    await withClient(async (client) => {
      const channel = await new Promise<ClientChannel>((resolve, reject) =>
        client.forwardOut('127.0.0.1', 5000, 'localhost', port, (error, stream) =>
          error ? reject(error) : resolve(stream),
        ),
      );
      channel.write('ping');
      const [reply] = (await once(channel, 'data')) as [Buffer];
      assert.equal(reply.toString(), 'ping');
      channel.end();
      const dialsBefore = envd.dials.length;
      for (const host of ['192.0.2.1', 'example.com', '0.0.0.0']) {
        await assert.rejects(
          new Promise((resolve, reject) =>
            client.forwardOut('127.0.0.1', 5000, host, port, (error, stream) =>
              error ? reject(error) : resolve(stream),
            ),
          ),
          /open failure|prohibited/i,
          host,
        );
      }
      assert.equal(envd.dials.length, dialsBefore, 'nothing was dialled for them');
      assert.deepEqual(envd.dials.at(-1), { port, host: '127.0.0.1' });
    });
  } finally {
    echo.close();
  }
});

test('a terminal: its size, window changes, keystrokes both ways, and the exit status', () =>
  withClient(async (client) => {
    const channel = await new Promise<ClientChannel>((resolve, reject) =>
      client.shell({ cols: 100, rows: 30, term: 'xterm-256color' }, {}, (error, stream) =>
        error ? reject(error) : resolve(stream),
      ),
    );
    const ran = collect(channel);
    let screen = '';
    channel.on('data', (chunk: Buffer) => (screen += chunk.toString()));
    await waitFor(() => screen.includes('ready 100x30'));
    channel.setWindow(40, 120, 0, 0);
    await waitFor(() => screen.includes('size 120x40'));
    channel.write('exit\n');
    const result = await ran;
    assert.equal(result.code, 3);
    const spawned = envd.terminal.spawned.at(-1);
    assert.equal(spawned?.unattachedGraceMs, 0);
    assert.equal(spawned?.timeoutMs, undefined);
    assert.deepEqual(spawned?.pty, { cols: 100, rows: 30, term: 'xterm-256color' });
    assert.equal(spawned?.env?.TERM, 'xterm-256color');
    assert.deepEqual(envd.terminal.resizes, [{ cols: 120, rows: 40 }]);
  }));

test('X11 and remote forwards and other subsystems are refused on the wire', () =>
  withClient(async (client) => {
    const refused = (start: (done: (error: Error | undefined) => void) => void) =>
      new Promise<Error | undefined>((resolve) => start(resolve));
    const x11 = await refused((done) => client.exec('true', { x11: true }, (error) => done(error)));
    const remote = await refused((done) =>
      client.forwardIn('127.0.0.1', 0, (error) => done(error)),
    );
    const subsystem = await refused((done) => client.subsys('netconf', (error) => done(error)));
    assert.match(String(x11), /X11/i);
    assert.ok(remote, 'tcpip-forward refused');
    assert.ok(subsystem, 'other subsystems refused');
  }));

test('agent forwarding, other env variables and signals with nothing running are refused', async () => {
  const session = new EventEmitter();
  const replies: string[] = [];
  const answer = (name: string) => [
    () => replies.push(`${name} accepted`),
    () => replies.push(`${name} refused`),
  ];
  const channelContext = {
    deps: context.deps,
    grant: {
      claims: JSON.parse(
        Buffer.from(context.sign().split('.')[1] ?? '', 'base64url').toString(),
      ) as AccessClaims,
      environmentId: context.environmentId,
      keyType: 'ssh-ed25519',
      fingerprint: 'SHA256:x',
    },
    session: {
      id: 'ses_x',
      addBytesIn: () => undefined,
      addBytesOut: () => undefined,
      end: async () => undefined,
    },
    requestId: 'req_x',
    sourceAddress: '127.0.0.1',
    log: context.deps.logger,
  };
  serveSession(channelContext, session as never);
  session.emit('auth-agent', ...answer('agent'));
  session.emit('env', ...answer('env'), { key: 'SECRET_TOKEN', val: 'x' });
  session.emit('signal', ...answer('signal'), { name: 'TERM' });
  assert.deepEqual(replies, ['agent refused', 'env refused', 'signal refused']);
});

test('each connection is an ssh session: audited at its start and end, ended by a revoke', async () => {
  const client = await connectClient();
  const closed = once(client, 'close');
  const live = context.deps.sessions.list().filter((session) => session.kind === 'ssh');
  assert.equal(live.length, 1);
  assert.equal(live[0]?.environmentId, context.environmentId);
  await exec(client, 'echo hello');
  const count = context.deps.sessions.closeWhere(
    { environmentId: context.environmentId },
    'revoked',
  );
  assert.equal(count, 1);
  await closed;
  await waitFor(() => ended('ssh').some((record) => record.details.reason === 'revoked'));
  const end = ended('ssh').find((record) => record.details.reason === 'revoked');
  assert.equal(end?.outcome, 'denied');
  assert.ok(Number(end?.details.bytesOut) >= 'hello\n'.length);
  const start = context.audit.find(
    (record) =>
      record.action === 'session.start' && record.details.session === end?.details.session,
  );
  assert.match(String(start?.details.keyFingerprint), /^SHA256:/);
  assert.ok(context.deps.activity.lastActiveAt(context.environmentId));
});

test('no login when the session start cannot be audited', async () => {
  context.failAudit(true);
  try {
    await assert.rejects(connectClient(), /authentication methods failed/);
  } finally {
    context.failAudit(false);
  }
});

test('with the real OpenSSH client: a command and its exit code; a refused key is 255', async () => {
  const keyFile = join(dir, 'id_ed25519');
  await writeFile(keyFile, userKey.private, { mode: 0o600 });
  await chmod(keyFile, 0o600);
  const knownHosts = join(dir, 'known_hosts');
  await writeFile(knownHosts, `[127.0.0.1]:${server.port} ${server.hostKeys[0]}\n`);
  const ssh = (command: string) =>
    run('ssh', [
      '-F',
      'none',
      '-i',
      keyFile,
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      `UserKnownHostsFile=${knownHosts}`,
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      'BatchMode=yes',
      '-p',
      String(server.port),
      `${context.environmentId}@127.0.0.1`,
      command,
    ]).then(
      (result) => ({ code: 0, ...result }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
  const ran = await ssh('echo from-openssh; exit 4');
  assert.equal(ran.code, 4);
  assert.equal(ran.stdout, 'from-openssh\n');
  context.answerWith(async () => ({ ok: false, code: 'forbidden', message: 'unknown key' }));
  try {
    const refused = await ssh('true');
    assert.equal(refused.code, 255);
    assert.match(refused.stderr, /Permission denied \(publickey\)/);
  } finally {
    context.answerWith(async () => ({
      ok: true,
      token: context.sign(),
      environmentId: context.environmentId,
    }));
  }
});
