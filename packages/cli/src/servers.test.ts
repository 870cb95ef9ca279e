import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Environment, Runner } from '@hangar/api';
import { testBackends } from '@hangar/control-plane/storage/testing.js';
import { HttpClient } from './http-client.js';
import { main } from './main.js';
import { captureIo, type CapturedIo, type CaptureOptions } from './testing/capture-io.js';

let root: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'hangar-cli-up-'));
  await chmod(root, 0o755);
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function run(argv: string[], options: CaptureOptions = {}) {
  const io = captureIo({ cwd: root, ...options });
  const code = await main(argv, io);
  return { code, stdout: io.stdout.text(), stderr: io.stderr.text() };
}

/** Waits until a foreground command has printed its JSON summary, or has ended. */
async function summaryOf<T>(io: CapturedIo, running: Promise<number>): Promise<T> {
  let ended: number | undefined;
  void running.then((code) => (ended = code));
  const deadline = Date.now() + 30000;
  while (Date.now() < deadline) {
    const text = io.stdout.text();
    if (text.trim().endsWith('}')) return JSON.parse(text) as T;
    if (ended !== undefined) assert.fail(`ended with ${ended}: ${io.stderr.text()}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`no summary within 30 s: ${io.stderr.text()}`);
}

interface UpSummary {
  controlPlaneUrl: string;
  runnerId: string;
  runnerEncryptionKey: string;
  credentialsPath: string;
  orgId: string;
}

async function waitForPhase(home: string, name: string, phase: string): Promise<void> {
  const deadline = Date.now() + 30000;
  while (Date.now() < deadline) {
    const got = await run(['env', 'get', name, '--json'], { env: { HANGAR_HOME: home } });
    if (got.code === 0 && (JSON.parse(got.stdout) as Environment).status.phase === phase) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(`${name} did not become ${phase}`);
}

describe('hangar up', () => {
  it('runs it all, writes 0600 credentials, stops on a signal, comes back the same', async () => {
    const home = join(root, 'home');
    const argv = ['up', '--home', home, '--port', '0', '--gateway-port', '0', '--json'];
    const first = captureIo({ cwd: root });
    const running = main(argv, first);
    const summary = await summaryOf<UpSummary>(first, running);
    assert.equal(summary.credentialsPath, join(home, 'credentials.json'));
    assert.equal((await stat(summary.credentialsPath)).mode & 0o777, 0o600);
    assert.match(first.stderr.text(), /Hangar is running\./);
    assert.match(first.stderr.text(), new RegExp(`dashboard +${summary.controlPlaneUrl}/ `));
    assert.match(summary.runnerEncryptionKey, /^SHA256:/);
    assert.match(
      first.stderr.text(),
      new RegExp(`sealed to its key ${summary.runnerEncryptionKey.replaceAll('+', '\\+')}`),
    );
    assert.match(first.stderr.text(), new RegExp(`token +written to ${summary.credentialsPath}`));
    assert.match(first.stderr.text(), /npx hangar env create <git URL or path> --wait/);
    assert.match(first.stderr.text(), new RegExp(`HANGAR_HOME=${home} npx hangar`));

    const env = { HANGAR_HOME: home };
    const who = await run(['whoami', '--json'], { env });
    assert.equal(who.code, 0, who.stderr);
    assert.equal((JSON.parse(who.stdout) as { orgId: string }).orgId, summary.orgId);
    const created = await run(['env', 'create', '--name', 'keep', '--wait'], { env });
    assert.equal(created.code, 0, created.stderr);

    first.stop('SIGTERM');
    assert.equal(await running, 0, first.stderr.text());
    assert.match(first.stderr.text(), /SIGTERM: stopping/);
    assert.match(first.stderr.text(), /^stopped$/m);
    const down = await run(['env', 'list'], { env });
    assert.equal(down.code, 1);
    assert.match(down.stderr, /^error unreachable: cannot reach the control plane/);

    const second = captureIo({ cwd: root });
    const again = main(argv, second);
    const later = await summaryOf<UpSummary>(second, again);
    assert.equal(later.runnerId, summary.runnerId);
    assert.equal(later.orgId, summary.orgId);
    await waitForPhase(home, 'keep', 'running');
    const runners = await run(['runner', 'list', '--json'], { env });
    assert.deepEqual(
      (JSON.parse(runners.stdout) as { runners: Runner[] }).runners.map((item) => item.name),
      ['local'],
    );
    const deleted = await run(['env', 'delete', 'keep', '--wait'], { env });
    assert.equal(deleted.code, 0, deleted.stderr);
    const verify = await run(['audit', 'verify'], { env });
    assert.equal(verify.code, 0, verify.stderr);
    second.stop();
    assert.equal(await again, 0, second.stderr.text());
  });

  it('says which port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const result = await run(['up', '--home', join(root, 'taken'), '--port', String(port)]);
      assert.equal(result.code, 1);
      assert.match(
        result.stderr,
        new RegExp(`^error conflict: 127\\.0\\.0\\.1:${port} is already in use`),
      );
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});

describe('hangar up --database', () => {
  for (const backend of testBackends()) {
    it(`keeps the records in ${backend.kind}`, async () => {
      const database = await backend.create();
      const home = join(root, `db-${backend.kind}`);
      const io = captureIo({ cwd: root });
      try {
        const argv = ['up', '--home', home, '--database', database.url, '--port', '0'];
        const running = main([...argv, '--gateway-port', '0', '--json'], io);
        await summaryOf<UpSummary>(io, running);
        const env = { HANGAR_HOME: home };
        const verify = await run(['audit', 'verify', '--json'], { env });
        assert.equal(verify.code, 0, verify.stderr);
        assert.ok((JSON.parse(verify.stdout) as { records: number }).records >= 3);
        io.stop();
        assert.equal(await running, 0, io.stderr.text());
      } finally {
        await database.drop();
      }
    });
  }
});

describe('hangar control and hangar runner', () => {
  it('control serves the API until a signal', async () => {
    const io = captureIo({ cwd: root });
    const running = main(
      ['control', '--data-dir', 'cp', '--port', '0', '--log-level', 'silent', '--json'],
      io,
    );
    const summary = await summaryOf<{ url: string; dataDir: string }>(io, running);
    assert.equal(summary.dataDir, join(root, 'cp'));
    const health = await new HttpClient({ baseUrl: summary.url, service: 'test' }).get<{
      ok: boolean;
    }>('/v1/health');
    assert.equal(health.ok, true);
    io.stop();
    assert.equal(await running, 0);
  });

  it('runner refuses a first start without an enrollment token, saying what to pass', async () => {
    const result = await run([
      'runner',
      '--control-plane',
      'http://127.0.0.1:9',
      '--data-dir',
      'fresh-runner',
      '--log-level',
      'silent',
    ]);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /^error invalid_request: .*holds no runner identity; pass --enroll/,
    );
  });
});
