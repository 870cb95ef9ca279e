import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { HangarError } from '@hangar/api';

import { cloneArgs, cloneRepository } from './clone.js';
import { bindCredential } from './credential-helper.js';
import { cloneFailureReason } from './errors.js';
import { openGitSession } from './git-session.js';
import type { GitSession } from './git-session.js';
import { captureLogs, git, makeRepo, makeTempDir, startGitHttpServer } from './testing/index.js';
import type { GitHttpServer, TempDir } from './testing/index.js';
import { parseRepositoryUrl } from './url.js';

const timeoutMs = 60_000;
const username = 'robot';
const password = `pw-${randomBytes(12).toString('hex')}`;
const wrongPassword = `wrong-${randomBytes(12).toString('hex')}`;

/** Every file under `dir` whose bytes contain `needle`. */
async function filesContaining(dir: string, needle: string): Promise<string[]> {
  const hits: string[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    if ((await readFile(path)).includes(needle)) hits.push(path);
  }
  return hits;
}

/** Temp files a git session left holding `needle` (sessions of other tests are ignored). */
async function leftoverCredentialFiles(needle: string): Promise<string[]> {
  const hits: string[] = [];
  for (const name of await readdir(tmpdir())) {
    if (!name.startsWith('hangar-git-')) continue;
    try {
      hits.push(...(await filesContaining(join(tmpdir(), name), needle)));
    } catch {
      // Another test's session went away while we looked.
    }
  }
  return hits;
}

/** Answers `git credential fill` for `protocol`/`host` through the session's helper. */
function credentialFill(session: GitSession, protocol: string, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', session.argv(['credential', 'fill']), {
      cwd: session.home,
      env: { ...session.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.resume();
    child.once('error', reject);
    child.once('close', () => resolve(stdout));
    child.stdin.end(`protocol=${protocol}\nhost=${host}\n\n`);
  });
}

void describe('cloneRepository with credentials', () => {
  let temp: TempDir;
  let server: GitHttpServer;
  let slowServer: GitHttpServer;
  let count = 0;
  const destination = (): string => join(temp.path, 'work', `clone-${(count += 1)}`);
  const repoUrl = (): string => `${server.url}/repo`;

  before(async () => {
    temp = await makeTempDir('hangar-git-cred-');
    await makeRepo(join(temp.path, 'served', 'repo'), { files: { 'private.txt': 'private\n' } });
    const auth = { username, password };
    server = await startGitHttpServer({ root: join(temp.path, 'served'), auth });
    slowServer = await startGitHttpServer({ root: join(temp.path, 'served'), auth, delayMs: 150 });
  });

  after(async () => {
    await server.close();
    await slowServer.close();
    await temp.remove();
  });

  void it('fails with authentication_failed when the server wants a credential', async () => {
    await assert.rejects(
      cloneRepository({ url: repoUrl(), destination: destination(), timeoutMs }),
      (error: unknown) => {
        assert.ok(error instanceof HangarError);
        assert.equal(cloneFailureReason(error), 'authentication_failed');
        assert.equal(error.code, 'forbidden');
        assert.ok(error.message.includes(repoUrl()));
        return true;
      },
    );
  });

  void it('clones with the credential; no password in .git, logs or temp files', async () => {
    const logs = captureLogs();
    const dest = destination();
    const result = await cloneRepository({
      url: repoUrl(),
      destination: dest,
      credential: { username, password },
      timeoutMs,
      logger: logs.logger,
    });
    assert.equal(await readFile(join(dest, 'private.txt'), 'utf8'), 'private\n');
    assert.equal(result.url, repoUrl());
    assert.deepEqual(await filesContaining(join(dest, '.git'), password), []);
    assert.deepEqual(await filesContaining(dest, password), []);
    assert.equal(await git(dest, ['config', 'remote.origin.url']), repoUrl());
    assert.match(logs.text(), /cloning repository/);
    assert.match(logs.text(), /cloned repository/);
    assert.equal(logs.text().includes(password), false);
    assert.deepEqual(await leftoverCredentialFiles(password), []);
    assert.ok(server.requests.some((request) => request.authorization === 'accepted'));
  });

  void it('keeps both passwords out of the error and logs of a wrong password', async () => {
    const logs = captureLogs();
    const error = await cloneRepository({
      url: repoUrl(),
      destination: destination(),
      credential: { username, password: wrongPassword },
      timeoutMs,
      logger: logs.logger,
    }).then(
      () => assert.fail('a wrong password should fail'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof HangarError);
    assert.equal(cloneFailureReason(error), 'authentication_failed');
    assert.match(error.message, /Authentication failed/);
    for (const secret of [password, wrongPassword]) {
      assert.equal(error.message.includes(secret), false);
      assert.equal(JSON.stringify(error.details).includes(secret), false);
      assert.equal(logs.text().includes(secret), false);
    }
    assert.match(logs.text(), /clone failed/);
    assert.deepEqual(await leftoverCredentialFiles(wrongPassword), []);
  });

  void it('uses a password written in the URL but stores and logs the URL without it', async () => {
    const logs = captureLogs();
    const dest = destination();
    const withPassword = server.url.replace('http://', `http://${username}:${password}@`);
    const redacted = server.url.replace('http://', `http://${username}@`);
    const result = await cloneRepository({
      url: `${withPassword}/repo`,
      destination: dest,
      timeoutMs,
      logger: logs.logger,
    });
    assert.equal(result.url, `${redacted}/repo`);
    assert.equal(await git(dest, ['config', 'remote.origin.url']), `${redacted}/repo`);
    assert.deepEqual(await filesContaining(join(dest, '.git'), password), []);
    assert.equal(logs.text().includes(password), false);
    assert.ok(logs.text().includes(`${redacted}/repo`));
  });

  void it('masks a password written in the URL in the error of a failed clone', async () => {
    const logs = captureLogs();
    const withWrong = server.url.replace('http://', `http://${username}:${wrongPassword}@`);
    const error = await cloneRepository({
      url: `${withWrong}/repo`,
      destination: destination(),
      timeoutMs,
      logger: logs.logger,
    }).then(
      () => assert.fail('a wrong password should fail'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof HangarError);
    assert.equal(error.message.includes(wrongPassword), false);
    assert.equal(logs.text().includes(wrongPassword), false);
  });

  void it('never puts the password in the argv or environment of any process', async () => {
    const url = `${slowServer.url}/repo`;
    const leaks: string[] = [];
    const gitProcesses = new Set<string>();
    let running = true;
    const watch = (async () => {
      while (running) {
        for (const pid of await readdir('/proc')) {
          if (!/^\d+$/.test(pid)) continue;
          for (const file of ['cmdline', 'environ']) {
            try {
              const text = (await readFile(`/proc/${pid}/${file}`)).toString('latin1');
              if (text.includes(password)) leaks.push(`${pid} ${file}`);
              if (file === 'cmdline' && text.includes(url)) gitProcesses.add(pid);
            } catch {
              // Gone already, or not ours to read.
            }
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    try {
      await cloneRepository({
        url,
        destination: destination(),
        credential: { username, password },
        timeoutMs,
      });
    } finally {
      running = false;
      await watch;
    }
    assert.deepEqual(leaks, []);
    assert.ok(gitProcesses.size > 0, 'the watcher saw no git process, so it proved nothing');
  });

  void it('builds git argv and environment that hold no secret', async () => {
    const repo = parseRepositoryUrl(`http://${username}:${password}@127.0.0.1:9/repo`);
    const credential = bindCredential(repo, undefined);
    assert.ok(credential);
    const session = await openGitSession({ credential });
    try {
      const argv = session.argv(cloneArgs({ repo }, { kind: 'default' }, '/tmp/dest'));
      assert.equal(argv.join(' ').includes(password), false);
      assert.equal(Object.values(session.env).join(' ').includes(password), false);
      assert.ok(argv.includes('http://robot@127.0.0.1:9/repo'));
    } finally {
      await session.close();
    }
  });

  void it('gives the password only for the protocol and host it was configured for', async () => {
    const repo = parseRepositoryUrl('http://127.0.0.1:9/repo');
    const credential = bindCredential(repo, { username, password });
    assert.ok(credential);
    const session = await openGitSession({ credential });
    try {
      const right = await credentialFill(session, 'http', '127.0.0.1:9');
      assert.ok(right.includes(`password=${password}`));
      assert.equal(
        (await credentialFill(session, 'http', '127.0.0.1:10')).includes(password),
        false,
      );
      assert.equal(
        (await credentialFill(session, 'https', '127.0.0.1:9')).includes(password),
        false,
      );
    } finally {
      await session.close();
    }
  });

  void it('does not send the credential to another host a server redirects to', async () => {
    const redirector = createServer((request, response) => {
      response.writeHead(302, { Location: `${server.url}${request.url ?? '/'}` });
      response.end();
    });
    await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', () => resolve()));
    const { port } = redirector.address() as AddressInfo;
    const before = server.requests.length;
    try {
      await assert.rejects(
        cloneRepository({
          url: `http://127.0.0.1:${port}/repo`,
          destination: destination(),
          credential: { username, password },
          timeoutMs,
        }),
        (error: unknown) => cloneFailureReason(error) === 'authentication_failed',
      );
    } finally {
      await new Promise<void>((resolve) => redirector.close(() => resolve()));
    }
    const redirected = server.requests.slice(before);
    assert.ok(redirected.length > 0, 'git did not follow the redirect');
    assert.ok(redirected.every((request) => request.authorization === 'none'));
  });

  void it('refuses a credential for a transport that cannot use one', async () => {
    await assert.rejects(
      cloneRepository({
        url: 'git://127.0.0.1:9/repo',
        destination: destination(),
        credential: { password },
        timeoutMs,
      }),
      (error: unknown) =>
        error instanceof HangarError &&
        cloneFailureReason(error) === 'invalid_credential' &&
        !error.message.includes(password),
    );
    await assert.rejects(
      cloneRepository({
        url: repoUrl(),
        destination: destination(),
        credential: { password: 'a\nb' },
        timeoutMs,
      }),
      (error: unknown) => cloneFailureReason(error) === 'invalid_credential',
    );
  });
});
