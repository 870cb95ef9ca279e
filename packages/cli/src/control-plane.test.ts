import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { generateEd25519, type AuditExport, type AuditRecord, type Runner } from '@hangar/api';
import { writeCredentialsFile } from './credentials.js';
import { type CaptureOptions, runMain } from './testing/capture-io.js';
import { startTestControlPlane, type TestControlPlane } from './testing/control-plane.js';

let cp: TestControlPlane;
let scratch: string;

before(async () => {
  cp = await startTestControlPlane();
  scratch = await mkdtemp(join(tmpdir(), 'hangar-cli-it-'));
});

after(async () => {
  await cp.close();
  await rm(scratch, { recursive: true, force: true });
});

function run(argv: string[], options: CaptureOptions = {}) {
  return runMain(argv, { env: cp.env, cwd: scratch, ...options });
}

function json<T>(text: string): T {
  return JSON.parse(text) as T;
}

describe('against a real control plane', () => {
  it('whoami names the owner, in text and JSON', async () => {
    const text = await run(['whoami']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`user: +${cp.userId} \\(owner\\)`));
    assert.match(text.stdout, /from HANGAR_TOKEN/);
    const body = json<{ orgId: string; scopes: string[] }>(
      (await run(['whoami', '--json'])).stdout,
    );
    assert.equal(body.orgId, cp.orgId);
    assert.ok(body.scopes.includes('runners:admin'));
  });

  it('runner create prints the enrollment token once and how to start the runner', async () => {
    const text = await run(['runner', 'create', 'build-1']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /runner build-1 \(run_[0-9a-z]+\) created/);
    assert.match(text.stdout, /^ {2}hge_enr_\S+$/m);
    assert.match(
      text.stdout,
      new RegExp(`hangar runner --control-plane ${cp.url} --enroll hge_\\S+ --data-dir \\S+`),
    );
    const body = json<{ enrollmentToken: string; runner: Runner; startCommand: string }>(
      (await run(['runner', 'create', 'build-2', '--json'])).stdout,
    );
    assert.match(body.enrollmentToken, /^hge_/);
    assert.equal(body.runner.state, 'pending');
    assert.ok(body.startCommand.includes(body.enrollmentToken));
  });

  it('runner create refuses a taken name and a bad one, with the server code', async () => {
    const taken = await run(['runner', 'create', 'build-1']);
    assert.equal(taken.code, 1);
    assert.match(taken.stderr, /^error conflict: a runner named build-1 already exists/);
    assert.match(taken.stderr, /request id: req_/);
    const bad = await run(['runner', 'create', 'Bad_Name']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^error invalid_request: /);
    assert.match(bad.stderr, /name must be 1 to 63 lower-case letters/);
  });

  it('runner list shows every runner and its state', async () => {
    const text = await run(['runner', 'list']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^NAME +ID +STATE/);
    assert.match(text.stdout, /build-1 +run_\S+ +pending/);
    const body = json<{ runners: Runner[] }>((await run(['runner', 'list', '--json'])).stdout);
    assert.deepEqual(
      body.runners.map((runner) => runner.name),
      ['build-1', 'build-2'],
    );
  });

  it('env commands say what is missing when there is nothing to run on', async () => {
    const list = await run(['env', 'list']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /no environments/);
    const get = await run(['env', 'get', 'nope']);
    assert.equal(get.code, 1);
    assert.match(get.stderr, /^error not_found: no environment named nope/);
    const byId = await run(['env', 'get', 'env_0000000000000000']);
    assert.equal(byId.code, 1);
    assert.match(byId.stderr, /^error not_found: /);
    const create = await run(['env', 'create']);
    assert.equal(create.code, 1);
    assert.match(create.stderr, /^error \w+: /);
  });

  it('token create prints a new token that works, with only its scopes', async () => {
    const created = await run(['token', 'create', '--scope', 'audit:read', '--expires', '1h']);
    assert.equal(created.code, 0, created.stderr);
    const token = created.stdout.trim();
    assert.ok(token.length > 20);
    assert.match(created.stderr, /with audit:read, expires/);
    const env = { HANGAR_URL: cp.url, HANGAR_TOKEN: token };
    const me = json<{ scopes: string[] }>((await run(['whoami', '--json'], { env })).stdout);
    assert.deepEqual(me.scopes, ['audit:read']);
    const denied = await run(['runner', 'create', 'nope'], { env });
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /^error forbidden: the API token lacks the scope runners:admin/);
    const widen = await run(['token', 'create', '--scope', 'runners:admin'], { env });
    assert.equal(widen.code, 1);
    assert.match(widen.stderr, /^error forbidden: a token cannot widen your scopes/);
  });

  it('a bad token is refused with where it came from and what to do', async () => {
    const env = { HANGAR_URL: cp.url, HANGAR_TOKEN: 'hgt_not-a-real-token' };
    const result = await run(['env', 'list'], { env });
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /^error unauthenticated: .*the token came from HANGAR_TOKEN.*hangar up/,
    );
  });

  it('reads HANGAR_HOME credentials, and refuses them when others may read them', async () => {
    const home = join(scratch, 'home');
    const path = join(home, 'credentials.json');
    await writeCredentialsFile(path, { controlPlaneUrl: cp.url, token: cp.token, orgId: cp.orgId });
    const ok = await run(['whoami', '--json'], { env: { HANGAR_HOME: home } });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(json<{ tokenSource: string }>(ok.stdout).tokenSource, path);
    await chmod(path, 0o644);
    const open = await run(['whoami'], { env: { HANGAR_HOME: home } });
    assert.equal(open.code, 1);
    assert.match(open.stderr, new RegExp(`^error forbidden: .*mode 0644.*chmod 600 ${path}`));
    await chmod(path, 0o600);
  });

  it('audit list shows records, filters them and pages through them', async () => {
    const text = await run(['audit', 'list']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^SEQ +TIME +ACTOR +ACTION +TARGET +OUTCOME/);
    assert.match(text.stdout, /org\.bootstrap/);
    assert.match(text.stdout, /runner\.create +runner:run_\S+ +success/);
    const all = json<{ records: AuditRecord[] }>((await run(['audit', 'list', '--json'])).stdout);
    assert.ok(all.records.length >= 5);

    const filtered = json<{ records: AuditRecord[] }>(
      (await run(['audit', 'list', '--action', 'runner.*', '--json'])).stdout,
    );
    assert.ok(filtered.records.length >= 2);
    assert.ok(filtered.records.every((record) => record.action.startsWith('runner.')));
    const byActor = json<{ records: AuditRecord[] }>(
      (await run(['audit', 'list', '--actor', cp.userId, '--since', '1h', '--json'])).stdout,
    );
    assert.ok(byActor.records.length > 0);
    assert.ok(byActor.records.every((record) => record.actor.id === cp.userId));

    const onePage = await run(['audit', 'list', '--limit', '1']);
    assert.equal(onePage.stdout.trim().split('\n').length, 2);
    const cursor = /--cursor (\S+)/.exec(onePage.stderr)?.[1];
    assert.ok(cursor, onePage.stderr);
    const next = json<{ records: AuditRecord[]; nextCursor?: string }>(
      (await run(['audit', 'list', '--limit', '1', '--cursor', cursor, '--json'])).stdout,
    );
    assert.equal(next.records[0]?.seq, 2);
    assert.ok(next.nextCursor);
    const paged = json<{ records: AuditRecord[]; nextCursor?: string }>(
      (await run(['audit', 'list', '--limit', '2', '--all', '--json'])).stdout,
    );
    assert.equal(paged.nextCursor, undefined);
    assert.deepEqual(
      paged.records.map((record) => record.seq),
      paged.records.map((_, index) => index + 1),
    );
    assert.ok(paged.records.length >= all.records.length);
    const future = await run(['audit', 'list', '--since', '2999-01-01']);
    assert.match(future.stdout, /no audit records match/);
    const badCursor = await run(['audit', 'list', '--cursor', 'bogus']);
    assert.equal(badCursor.code, 1);
    assert.match(
      badCursor.stderr,
      /^error invalid_request: cursor is not a cursor this server issued/,
    );
  });

  it('audit export prints the chain; audit verify checks it live and from a file', async () => {
    const exported = await run(['audit', 'export']);
    assert.equal(exported.code, 0, exported.stderr);
    const body = json<AuditExport>(exported.stdout);
    assert.equal(body.orgId, cp.orgId);
    assert.ok(body.checkpoints.length >= 1);

    const live = await run(['audit', 'verify']);
    assert.equal(live.code, 0, live.stderr);
    assert.match(live.stdout, /verified: \d+ records, \d+ signed checkpoints, head seq \d+/);
    assert.match(live.stdout, /from the control plane/);
    const liveJson = json<{ ok: boolean; records: number }>(
      (await run(['audit', 'verify', '--json'])).stdout,
    );
    assert.equal(liveJson.ok, true);

    const file = join(scratch, 'export.json');
    await writeFile(file, exported.stdout);
    const fromFile = await run(['audit', 'verify', '--file', 'export.json']);
    assert.equal(fromFile.code, 0, fromFile.stderr);
    assert.match(fromFile.stderr, /warning: the signing key comes from the export itself/);
    const pinned = await run(['audit', 'verify', '--file', file, '--public-key', body.publicKey], {
      env: {},
    });
    assert.equal(pinned.code, 0, pinned.stderr);
    assert.doesNotMatch(pinned.stderr, /warning/);
  });

  it('audit verify --file names the first edited, removed or re-keyed record', async () => {
    const body = json<AuditExport>((await run(['audit', 'export'])).stdout);
    const edited = structuredClone(body);
    const third = edited.records[2];
    assert.ok(third);
    third.outcome = third.outcome === 'success' ? 'failure' : 'success';
    await writeFile(join(scratch, 'edited.json'), JSON.stringify(edited));
    const result = await run(['audit', 'verify', '--file', 'edited.json']);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /BROKEN at record seq 3: its contents do not match its hash/);
    assert.match(result.stderr, /first bad record seq 3/);

    const removed = structuredClone(body);
    removed.records.splice(1, 1);
    await writeFile(join(scratch, 'removed.json'), JSON.stringify(removed));
    const gap = json<{ ok: boolean; problem: { seq: number; reason: string } }>(
      (await run(['audit', 'verify', '--file', 'removed.json', '--json'])).stdout,
    );
    assert.equal(gap.ok, false);
    assert.equal(gap.problem.seq, 2);
    assert.match(gap.problem.reason, /missing/);

    const other = generateEd25519();
    const rekeyed = await run([
      'audit',
      'verify',
      '--file',
      'export.json',
      '--public-key',
      other.publicKey,
    ]);
    assert.equal(rekeyed.code, 1);
    assert.match(rekeyed.stderr, /names signing key SHA256:\S+, not the trusted SHA256:/);
    assert.match(rekeyed.stdout, /BROKEN at record seq \d+: checkpoint signature is not valid/);

    await writeFile(join(scratch, 'garbage.json'), '{"orgId": 1}');
    const garbage = await run(['audit', 'verify', '--file', 'garbage.json']);
    assert.equal(garbage.code, 1);
    assert.match(garbage.stderr, /^error invalid_request: the audit export is not valid/);
    const missing = await run(['audit', 'verify', '--file', 'missing.json']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^error not_found: cannot read /);
  });

  it('audit verify fails, naming the seq, after one row of the SQLite file is edited', async () => {
    const before = json<{ ok: boolean; headSeq: number }>(
      (await run(['audit', 'verify', '--json'])).stdout,
    );
    assert.equal(before.ok, true);
    const db = new Database(join(cp.dataDir, 'control-plane.db'));
    try {
      const changed = db
        .prepare(`UPDATE audit_records SET details = ? WHERE org_id = ? AND seq = ?`)
        .run('{"name":"tampered"}', cp.orgId, 4);
      assert.equal(changed.changes, 1);
    } finally {
      db.close();
    }
    const result = await run(['audit', 'verify']);
    assert.equal(result.code, 1);
    assert.match(
      result.stdout,
      /BROKEN at record seq 4: its contents do not match its hash \(edited\)/,
    );
    assert.match(result.stderr, /audit verify failed: first bad record seq 4/);
    const body = json<{ ok: boolean; problem: { seq: number } }>(
      (await run(['audit', 'verify', '--json'])).stdout,
    );
    assert.equal(body.ok, false);
    assert.equal(body.problem.seq, 4);
  });
});
