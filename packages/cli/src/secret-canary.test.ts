import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  openSecret,
  publicKeyObject,
  type DesiredEnvironment,
  type Secret,
  type ServerMessage,
} from '@hangar/api';
import { createLogger } from '@hangar/control-plane';
import { connectedRunner, createEnvironment } from '@hangar/control-plane/testing/fixtures.js';
import type { ProtocolRunner } from '@hangar/control-plane/testing/fake-runner.js';
import {
  startTestControlPlane,
  type TestControlPlane,
} from '@hangar/control-plane/testing/harness.js';
import { testBackends } from '@hangar/control-plane/storage/testing.js';
import { runMain } from './testing/capture-io.js';

/** The forms a leaked value could take: as is, base64 (both alphabets), hex either case. */
function formsOf(value: string): string[] {
  const bytes = Buffer.from(value);
  return [
    value,
    bytes.toString('base64'),
    bytes.toString('base64url'),
    bytes.toString('hex'),
    bytes.toString('hex').toUpperCase(),
  ];
}

function assertAbsent(where: string, text: string, forms: readonly string[]): void {
  for (const form of forms) assert.ok(!text.includes(form), `${where} holds the canary (${form})`);
}

/** Every row of every table, every column, as JSON text. */
async function dumpDatabase(t: TestControlPlane): Promise<Record<string, string>> {
  const db = t.cp.context.db;
  const tables =
    db.kind === 'sqlite'
      ? await db.query<{ name: string }>(
          "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
        )
      : await db.query<{ name: string }>(
          `SELECT table_name AS name FROM information_schema.tables
           WHERE table_schema = current_schema() ORDER BY table_name`,
        );
  const dump: Record<string, string> = {};
  for (const { name } of tables) {
    dump[name] = JSON.stringify(await db.query(`SELECT * FROM "${name}"`));
  }
  return dump;
}

/** Every file under `dir` (the SQLite database and its journal among them), as bytes. */
async function filesUnder(dir: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files.set(path, await readFile(path));
  }
  return files;
}

function opened(runner: ProtocolRunner, state: DesiredEnvironment, name: string) {
  const secret = state.secrets?.find((item) => item.name === name);
  assert.ok(secret, `${name} was delivered`);
  return runner.open(state, secret);
}

for (const backend of testBackends()) {
  describe(`a canary secret set through the CLI on ${backend.kind}`, () => {
    test('is nowhere on the control plane, yet the runner opens it', async () => {
      const lines: string[] = [];
      const logger = createLogger({
        level: 'trace',
        destination: { write: (line: string) => lines.push(line) },
      });
      const t = await startTestControlPlane(backend, {}, { logger });
      const home = await mkdtemp(join(tmpdir(), 'hangar-canary-'));
      try {
        const { runner } = await connectedRunner(t, 'canary');
        const environment = await createEnvironment(t);
        const canary = `canary-${randomBytes(16).toString('hex')}`;
        const env = { HANGAR_URL: t.url, HANGAR_TOKEN: t.owner.token, HANGAR_HOME: home };
        const outputs: string[] = [];
        for (const argv of [
          ['secret', 'set', 'CANARY', '--json'],
          ['secret', 'set', 'CANARY', '--json'],
          ['secret', 'set', 'CANARY_ORG', '--org', '--file', '/run/secrets/canary'],
          ['secret', 'set', 'CANARY_GIT', '--git-host', 'git.example.com'],
        ]) {
          const result = await runMain(argv, { env, cwd: home, stdin: canary });
          assert.equal(result.code, 0, result.stderr);
          outputs.push(result.stdout, result.stderr);
        }

        const state = await runner.waitFor<ServerMessage & { type: 'environment' }>(
          (item) =>
            item.type === 'environment' &&
            item.environment.id === environment.id &&
            (item.environment.secrets ?? []).length === 3 &&
            item.environment.secrets?.find((s) => s.name === 'CANARY')?.version === 2,
        );
        for (const name of ['CANARY', 'CANARY_ORG', 'CANARY_GIT']) {
          const result = opened(runner, state.environment, name);
          assert.ok(result.ok && result.value.toString('utf8') === canary, name);
        }

        const forms = formsOf(canary);
        const dump = await dumpDatabase(t);
        for (const [table, rows] of Object.entries(dump))
          assertAbsent(`table ${table}`, rows, forms);
        const delivered = state.environment.secrets?.[0]?.envelope ?? 'none';
        assert.ok(dump.secrets?.includes('CANARY_ORG'), 'the dump covers the secrets table');
        assert.ok(dump.secret_ciphertexts?.includes(delivered), 'and the ciphertexts');
        assert.ok(lines.length > 0, 'the logger was captured');
        assertAbsent('the control plane log', lines.join(''), forms);
        assertAbsent('the CLI output', outputs.join(''), forms);

        const responses: string[] = [];
        for (const path of [
          '/v1/secrets',
          '/v1/secrets/recipients?scope=org',
          '/v1/signing-keys',
          '/v1/environments',
          `/v1/environments/${environment.id}`,
          '/v1/runners',
          '/v1/audit/export',
          '/v1/org/policy',
        ]) {
          const response = await t.request('GET', path);
          assert.equal(response.status, 200, path);
          responses.push(JSON.stringify(response.body));
        }
        assertAbsent('the API responses', responses.join(''), forms);
        const audit = await t.cp.context.audit.export(t.owner.orgId);
        const sets = audit.records.filter((record) => record.action === 'secret.set');
        assert.equal(sets.length, 4);
        assertAbsent('the audit records', JSON.stringify(audit.records), forms);
        assert.ok(!JSON.stringify(sets).includes('envelope'));

        if (backend.kind === 'sqlite') await t.cp.context.db.execute('PRAGMA wal_checkpoint');
        for (const [path, bytes] of await filesUnder(t.dataDir)) {
          for (const form of forms) assert.equal(bytes.indexOf(form), -1, `${path} holds it`);
        }

        // What the control plane holds cannot open it: its own key, and every key it stores.
        const secret = state.environment.secrets?.find((item) => item.name === 'CANARY');
        assert.ok(secret);
        const ownKey = t.cp.context.signingKey.privateKey.export({ format: 'jwk' }).d ?? '';
        const stored = await t.cp.context.db.query<{
          public_key: string | null;
          encryption_key: string | null;
        }>('SELECT public_key, encryption_key FROM runners');
        const candidates = [
          ownKey,
          ...stored.flatMap((row) => [row.public_key, row.encryption_key]),
        ];
        for (const candidate of candidates.filter((item): item is string => !!item)) {
          const attempt = openSecret({
            envelope: secret.envelope,
            binding: {
              orgId: state.environment.orgId,
              scope: secret.scope,
              scopeId: secret.scopeId,
              name: secret.name,
              version: secret.version,
              delivery: secret.delivery,
              target: secret.target,
              runnerId: runner.runnerId,
              authorId: secret.authorId,
            },
            runnerPrivateKey: candidate,
            runnerPublicKey: runner.encryption.publicKey,
            authorVerifyKey: publicKeyObject(secret.authorVerifyKey),
          });
          assert.equal(attempt.ok, false);
        }
        const listed = await t.request<{ secrets: Secret[] }>('GET', '/v1/secrets');
        assert.equal(listed.body.secrets.length, 3);
      } finally {
        await t.close();
        await rm(home, { recursive: true, force: true });
      }
    });
  });
}
