// Starts a throw-away PostgreSQL server for the test suite: a fresh cluster in a temporary
// directory, listening on 127.0.0.1 only, on a free port. Plain Node, no dependencies.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, readdirSync, readFileSync, rmSync } from 'node:fs';
import { chown, mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

const debianRoot = '/usr/lib/postgresql';
const superuser = 'hangar';
const readyPattern = /database system is ready to accept connections/;
const portInUsePattern = /could not bind|Address already in use|could not create any TCP/;
const startTimeoutMs = 30_000;
const stopTimeoutMs = 15_000;
const portAttempts = 5;

function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The directory holding `initdb` and `postgres`: from PATH, else Debian's newest version. */
export function findServerBinaries(env = process.env) {
  const both = (dir) => isExecutable(join(dir, 'initdb')) && isExecutable(join(dir, 'postgres'));
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    if (both(dir)) return dir;
  }
  let versions = [];
  try {
    versions = readdirSync(debianRoot).filter((name) => /^\d+(\.\d+)?$/.test(name));
  } catch {
    versions = [];
  }
  versions.sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const dir = join(debianRoot, version, 'bin');
    if (both(dir)) return dir;
  }
  throw new Error(
    'no PostgreSQL server binaries (initdb, postgres) on PATH or under ' +
      `${debianRoot}/<version>/bin; install Debian's \`postgresql\` package ` +
      '(apt-get install postgresql), or set HANGAR_TEST_POSTGRES_URL to a server you run',
  );
}

/** PostgreSQL refuses to run as root; as root, the cluster belongs to Debian's `postgres` user. */
function serverAccount() {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('postgres:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) {
    throw new Error(
      'running as root, and there is no `postgres` system user to run PostgreSQL as; ' +
        "install Debian's `postgresql` package (it creates the user), or run the tests as a " +
        'normal user',
    );
  }
  return { uid: Number(uid), gid: Number(gid) };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function spawnOptions(account, cwd) {
  const env = { ...process.env, LC_ALL: 'C', LANG: 'C' };
  delete env.PGDATA;
  return { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], ...(account ?? {}) };
}

function run(command, args, options) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, options);
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0) resolve(output);
      else reject(new Error(`${command} exited with ${code}:\n${output.trim()}`));
    });
  });
}

/** Starts `postgres`; resolves once it accepts connections, rejects with its log if it stops. */
function launch(bin, { dataDir, socketDir, port, account }) {
  const args = ['-D', dataDir, '-p', String(port), '-k', socketDir, '-h', '127.0.0.1', '-F'];
  args.push('-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  args.push('-c', 'max_connections=200', '-c', 'unix_socket_permissions=0700');
  const child = spawn(join(bin, 'postgres'), args, {
    ...spawnOptions(account, socketDir),
    detached: true,
  });
  let log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`postgres did not become ready within ${startTimeoutMs} ms:\n${log}`));
    }, startTimeoutMs);
    const onData = (chunk) => {
      log = (log + chunk).slice(-20_000);
      if (readyPattern.test(log)) {
        clearTimeout(timer);
        child.stderr.off('data', onData);
        child.stderr.resume();
        resolve(child);
      }
    };
    child.stdout.resume();
    child.stderr.on('data', onData);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const error = new Error(`postgres exited (${signal ?? code}) while starting:\n${log.trim()}`);
      error.portInUse = portInUsePattern.test(log);
      reject(error);
    });
  });
}

function waitForExit(child, timeoutMs) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

async function prepareCluster(bin, account) {
  const root = await mkdtemp(join(tmpdir(), 'hangar-postgres-'));
  const password = randomBytes(18).toString('base64url');
  const passwordFile = join(root, 'password');
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  if (account) {
    await chown(root, account.uid, account.gid);
    await chown(passwordFile, account.uid, account.gid);
  }
  const dataDir = join(root, 'data');
  try {
    const args = ['-D', dataDir, '-U', superuser, `--pwfile=${passwordFile}`];
    args.push('--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C');
    await run(join(bin, 'initdb'), [...args, '--no-sync'], spawnOptions(account, root));
  } catch (error) {
    rmSync(root, { recursive: true, force: true });
    throw error;
  }
  return { root, dataDir, password };
}

/**
 * Creates a fresh cluster and starts it on 127.0.0.1 at a free port. Returns the superuser's
 * connection URL and `stop()`, which shuts the server down and removes every file it made.
 */
export async function startPostgres() {
  const bin = findServerBinaries();
  const account = serverAccount();
  const { root, dataDir, password } = await prepareCluster(bin, account);
  const cleanUp = () => rmSync(root, { recursive: true, force: true });

  let child;
  let port;
  try {
    for (let attempt = 1; !child; attempt += 1) {
      port = await freePort();
      try {
        child = await launch(bin, { dataDir, socketDir: root, port, account });
      } catch (error) {
        if (!error.portInUse || attempt >= portAttempts) throw error;
      }
    }
  } catch (error) {
    cleanUp();
    throw error;
  }

  // Known gap: if this process is killed with SIGKILL, the server (in its own process group, so
  // that Ctrl-C reaches the tests first) keeps running and its temporary directory stays behind.
  const onExit = () => {
    child.kill('SIGKILL');
    cleanUp();
  };
  process.once('exit', onExit);
  let stopping;
  const stop = () => {
    stopping ??= (async () => {
      process.off('exit', onExit);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      await waitForExit(child, stopTimeoutMs);
      cleanUp();
    })();
    return stopping;
  };
  const url = `postgres://${superuser}:${password}@127.0.0.1:${port}/postgres`;
  return { url, port, dataDir, stop };
}
