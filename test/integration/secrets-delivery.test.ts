import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import {
  generateEd25519,
  generateX25519,
  privateKeyObject,
  sealSecret,
  type SecretRecipient,
} from '@hangar/api';
import { startGitHttpServer } from '@hangar/runner/git/testing/index.js';
import { captureLogs } from '../support/capture-logs.js';
import { hangar } from '../support/cli.js';
import { devcontainer, repository } from '../support/repos.js';
import { startSystem, type System } from '../support/system.js';

/** Every file under `dir` (missing or unreadable files count as empty), concatenated. */
async function everything(dir: string): Promise<Buffer> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  const files = entries.filter((entry) => entry.isFile());
  const contents = await Promise.all(
    files.map((file) => readFile(join(file.parentPath, file.name)).catch(() => Buffer.alloc(0))),
  );
  return Buffer.concat(contents);
}

/** The forms of a value the runner masks: any of them in a log line is a leak. */
function formsOf(value: string): string[] {
  const bytes = Buffer.from(value);
  return [
    value,
    bytes.toString('hex'),
    bytes.toString('base64').replace(/=+$/, '').slice(0, -2),
    bytes.toString('base64url').replace(/=+$/, '').slice(0, -2),
    encodeURIComponent(value),
    JSON.stringify(value).slice(1, -1),
  ];
}

function cliEnv(system: System, home: string): NodeJS.ProcessEnv {
  return { HANGAR_URL: system.cp.url, HANGAR_TOKEN: system.token, HANGAR_HOME: home };
}

async function setSecret(env: NodeJS.ProcessEnv, args: string[], value: string): Promise<void> {
  const set = await hangar(['secret', 'set', ...args], env, value);
  assert.equal(set.code, 0, set.stderr);
  assert.ok(!set.stdout.includes(value) && !set.stderr.includes(value));
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

test(
  'hangar secret set, env create, hangar env exec: the value arrives and is masked everywhere',
  { timeout: 180_000 },
  async () => {
    const canary = 'canary-Zq8/x+T3"value\\w1th s9mbols';
    const fileValue = 'file-secret-4c1e2a\nsecond line\n';
    const { logger, text: loggedText } = captureLogs();
    const system = await startSystem({ logger });
    const env = cliEnv(system, join(system.dir, 'cli-home'));
    try {
      await setSecret(env, ['CANARY_TOKEN', '--org'], `${canary}\n`);
      await setSecret(env, ['CERT', '--org', '--file', '/run/secrets/cert'], fileValue);
      const repo = await repository(system.dir, 'secretive', {
        files: {
          '.devcontainer/devcontainer.json': devcontainer({
            postCreateCommand:
              'printf %s "$CANARY_TOKEN" | sha256sum; echo "echoed: $CANARY_TOKEN"; ' +
              'printf %s "$CANARY_TOKEN" | base64 -w0; echo; ' +
              'printf %s "$CANARY_TOKEN" | od -An -tx1 -v | tr -d " \\n"; echo',
          }),
        },
      });
      const environment = await system.createAndWait({ repository: { url: repo.dir } });

      const printed = await hangar(
        ['env', 'exec', environment.name, '--', 'printenv', 'CANARY_TOKEN'],
        env,
      );
      assert.equal(printed.code, 0, printed.stderr);
      assert.equal(printed.stdout, `${canary}\n`, 'exec sees the env secret');
      const masked = await hangar(
        ['env', 'exec', environment.name, '--mask', '--', 'sh', '-c', 'printenv CANARY_TOKEN'],
        env,
      );
      assert.equal(masked.code, 0, masked.stderr);
      assert.equal(masked.stdout, '***\n', 'exec --mask shows ***');

      const grant = await system.grant(environment.id, ['exec']);
      const gateway = (path: string, init: RequestInit = {}) =>
        fetch(`${grant.gatewayUrl}/v1/environments/${environment.id}${path}`, {
          ...init,
          headers: { authorization: `Bearer ${grant.token}`, 'content-type': 'application/json' },
        }).then((response) => response.json() as Promise<Record<string, unknown>>);
      const started = await gateway('/processes', {
        method: 'POST',
        body: JSON.stringify({ command: ['printenv', 'CANARY_TOKEN'], mask: true }),
      });
      await gateway(`/processes/${String(started['id'])}/wait?timeoutS=10`);
      const detail = await gateway(`/processes/${String(started['id'])}`);
      const tail = Buffer.from(String(detail['outputTail']), 'base64').toString();
      assert.equal(tail, '***\n', 'a process started with mask: true shows ***');

      const file = await system.exec(environment.id, [
        'sh',
        '-c',
        'stat -c "%a %u" /run/secrets/cert; id -u; cat /run/secrets/cert',
      ]);
      const [mode, uid] = file.out.toString().split('\n');
      assert.equal(mode, `400 ${uid}`, 'the file is 0400 and the environment user owns it');
      assert.ok(file.out.toString().endsWith(fileValue), 'the file holds the value');
      const mounts = await system.exec(environment.id, [
        'grep',
        ' /run/secrets/cert ',
        '/proc/mounts',
      ]);
      assert.match(mounts.out.toString(), /tmpfs/, 'the file is on memory');

      const logs = await readFile(
        join(system.dir, 'runner', 'environments', environment.id, 'lifecycle.log'),
        'utf8',
      );
      assert.ok(logs.includes(sha256(canary)), 'the lifecycle command saw the value');
      assert.match(logs, /echoed: \*\*\*/);
      for (const form of formsOf(canary)) assert.ok(!logs.includes(form), form);

      const runnerFiles = await everything(join(system.dir, 'runner'));
      for (const value of [canary, fileValue.split('\n')[0] ?? '']) {
        assert.ok(!runnerFiles.includes(value), 'no value in the runner data dir or workspace');
      }
      const audit = await system.api('GET', '/v1/audit/export');
      const auditText = JSON.stringify(audit.body);
      assert.match(auditText, /environment\.secrets\.deliver/);
      assert.match(auditText, /org\/CANARY_TOKEN@v1/);
      assert.ok(!auditText.includes(canary));

      await system.api('POST', `/v1/environments/${environment.id}/stop`);
      await system.waitFor(environment.id, 'stopped');
      assert.equal(system.runner.secrets.size, 0, 'a stopped environment leaves no value held');
      assert.equal(system.runner.secrets.holds(environment.id), false);
      const logged = loggedText();
      for (const form of formsOf(canary)) assert.ok(!logged.includes(form), `log: ${form}`);
      // What `hangar secret set` asks an operator to compare when a runner's key changed.
      const runners = await system.api<{ runners: Array<{ encryptionKeyFingerprint?: string }> }>(
        'GET',
        '/v1/runners',
      );
      const shown = runners.body.runners[0]?.encryptionKeyFingerprint ?? 'none';
      assert.ok(logged.includes(`"encryptionKeyFingerprint":"${shown}"`), 'the runner logs it');
    } finally {
      await system.close();
    }
  },
);

test(
  'a git secret clones over http from 127.0.0.1 and git inside finds it; no file holds it',
  { timeout: 180_000 },
  async () => {
    const password = 'git-secret-password-8d1f3e';
    const { logger, text: loggedText } = captureLogs();
    const root = await mkdtemp(join(tmpdir(), 'hangar-git-secret-'));
    await chmod(root, 0o755);
    const served = await repository(root, 'private', { files: { 'README.md': 'private' } });
    const server = await startGitHttpServer({
      root,
      auth: { username: 'x-access-token', password },
    });
    const host = new URL(server.url).host;
    const system = await startSystem({ logger });
    try {
      const env = cliEnv(system, join(system.dir, 'cli-home'));
      await setSecret(env, ['GIT_TOKEN', '--org', '--git-host', host], `${password}\n`);
      const url = `${server.url}/${basename(served.dir)}`;
      const environment = await system.createAndWait({ repository: { url } });
      const readme = await system.exec(environment.id, ['cat', 'README.md']);
      assert.equal(readme.out.toString(), 'private', 'the clone used the git secret');

      const fill = await system.exec(environment.id, ['git', 'credential', 'fill'], {
        stdin: Buffer.from(`protocol=http\nhost=${host}\n\n`).toString('base64'),
      });
      assert.match(fill.out.toString(), new RegExp(`password=${password}`), 'git finds it');
      const where = await system.exec(environment.id, [
        'sh',
        '-c',
        'cat .git/config ~/.git-credentials ~/.gitconfig 2>/dev/null; grep -rl x-access . ~ || true',
      ]);
      assert.ok(!where.out.includes(password), 'not in the workspace or the home');
      const runnerFiles = await everything(join(system.dir, 'runner'));
      assert.ok(!runnerFiles.includes(password), 'not in the runner data dir or the workspace');
      assert.ok(!loggedText().includes(password), 'not in any log line');
    } finally {
      await system.close();
      await server.close();
      await rm(root, { recursive: true, force: true });
    }
  },
);

test(
  'a ciphertext sealed to another key fails the start with secret_unreadable, no value shown',
  { timeout: 120_000 },
  async () => {
    const value = 'moved-secret-value-0b9d77';
    const system = await startSystem();
    try {
      const keys = generateEd25519();
      const key = await system.api<{ id: string }>('POST', '/v1/signing-keys', {
        publicKey: keys.publicKey,
      });
      assert.equal(key.status, 201, JSON.stringify(key.body));
      const me = await system.api<{ userId: string }>('GET', '/v1/whoami');
      const listed = await system.api<{ recipients: SecretRecipient[] }>(
        'GET',
        '/v1/secrets/recipients?scope=org',
      );
      const ciphertexts = listed.body.recipients.map((recipient) => ({
        runnerId: recipient.runnerId,
        envelope: sealSecret({
          value,
          binding: {
            orgId: system.orgId,
            scope: 'org',
            scopeId: '',
            name: 'MOVED',
            version: 1,
            delivery: 'env',
            target: 'MOVED',
            runnerId: recipient.runnerId,
            authorId: me.body.userId,
          },
          // Signed properly, so the control plane takes it, but sealed to a key that is not the
          // runner's (an old one, say): only the runner can tell.
          runnerPublicKey: generateX25519().publicKey,
          authorSigningKey: privateKeyObject(keys.privateKey),
        }),
      }));
      const put = await system.api('PUT', '/v1/secrets', {
        name: 'MOVED',
        scope: 'org',
        delivery: 'env',
        target: 'MOVED',
        version: 1,
        signingKeyId: key.body.id,
        ciphertexts,
      });
      assert.ok(put.status === 200 || put.status === 201, JSON.stringify(put.body));
      const failed = await system.createAndWait({}, 'failed');
      const failure = failed.status.failure;
      assert.equal(failure?.reason, 'secret_unreadable');
      assert.match(failure?.message ?? '', /org\/MOVED/);
      assert.match(failure?.message ?? '', /set it again/);
      assert.ok(!JSON.stringify(failed).includes(value));
      assert.equal(system.runner.secrets.size, 0);
    } finally {
      await system.close();
    }
  },
);
