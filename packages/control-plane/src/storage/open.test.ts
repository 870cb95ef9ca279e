import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HangarError } from '@hangar/api';
import { openDatabase, parseDatabaseUrl } from './open.js';
import { testBackends, testPostgresUrlVariable } from './testing.js';

function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function isInvalidDatabase(error: unknown): boolean {
  assert.ok(error instanceof HangarError);
  assert.equal(error.code, 'invalid_request');
  assert.equal(error.fields?.[0]?.field, 'database');
  assert.match(error.message, /use sqlite:<path>, a file path, or postgres:\/\//);
  return true;
}

describe('parseDatabaseUrl', () => {
  it('reads sqlite: URLs and plain paths as SQLite files', () => {
    assert.deepEqual(parseDatabaseUrl('sqlite:data/hangar.db'), {
      kind: 'sqlite',
      path: 'data/hangar.db',
    });
    assert.deepEqual(parseDatabaseUrl('sqlite:///var/lib/hangar.db'), {
      kind: 'sqlite',
      path: '/var/lib/hangar.db',
    });
    assert.deepEqual(parseDatabaseUrl('/tmp/x.db'), { kind: 'sqlite', path: '/tmp/x.db' });
    assert.deepEqual(parseDatabaseUrl(' ./rel.db '), { kind: 'sqlite', path: './rel.db' });
  });

  it('reads postgres:// and postgresql:// URLs as PostgreSQL', () => {
    for (const url of ['postgres://u:p@db.internal:5433/hangar', 'postgresql://u@h/hangar']) {
      assert.deepEqual(parseDatabaseUrl(url), { kind: 'postgres', url });
    }
  });

  it('refuses empty URLs, empty sqlite paths and other schemes', () => {
    for (const url of ['', '   ', 'sqlite:', 'sqlite://', 'mysql://u@h/db', 'https://h/db']) {
      assert.throws(() => parseDatabaseUrl(url), isInvalidDatabase, url);
    }
  });

  it('refuses a PostgreSQL URL without a host, and never echoes its password', () => {
    assert.throws(
      () => parseDatabaseUrl('postgres:///hangar'),
      (error: unknown) => isInvalidDatabase(error) && /names no host/.test(String(error)),
    );
    assert.throws(
      () => parseDatabaseUrl('postgres://u:pa ss[word@h:99999/db'),
      (error: unknown) => isInvalidDatabase(error) && !String(error).includes('pa ss[word'),
    );
  });
});

describe('openDatabase', () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hangar-open-'));
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates the SQLite file and its directory, and migrates it', async () => {
    const path = join(dir, 'nested', 'deeper', 'hangar.db');
    const db = await openDatabase({ url: `sqlite:${path}` });
    try {
      assert.ok((await stat(path)).isFile());
      const rows = await db.query('SELECT COUNT(*) AS n FROM schema_migrations');
      assert.ok(Number(rows[0]?.n) >= 1);
    } finally {
      await db.close();
    }
  });

  it('names the path when the SQLite file cannot be opened', async () => {
    await assert.rejects(openDatabase({ url: dir }), (error: unknown) => {
      assert.ok(error instanceof HangarError);
      assert.match(error.message, new RegExp(`SQLite database at ${dir}`));
      return true;
    });
  });

  it('says which server, database and user it could not reach, without the password', async () => {
    const port = await closedPort();
    const password = 'correct-horse-battery';
    const url = `postgres://hangar:${password}@127.0.0.1:${port}/hangar_prod`;
    await assert.rejects(openDatabase({ url }), (error: unknown) => {
      assert.ok(error instanceof HangarError);
      assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
      assert.match(error.message, /database hangar_prod/);
      assert.match(error.message, /user hangar/);
      assert.match(error.message, /check that PostgreSQL is running/);
      assert.ok(!error.message.includes(password));
      assert.ok(!JSON.stringify(error.details).includes(password));
      return true;
    });
  });
});

const postgresUrl = testBackends().some((backend) => backend.kind === 'postgres')
  ? process.env[testPostgresUrlVariable]
  : undefined;

describe('openDatabase against a real PostgreSQL server', { skip: !postgresUrl }, () => {
  it('says to check the password when the server refuses it, without echoing it', async () => {
    const url = new URL(postgresUrl ?? '');
    url.password = 'not-the-password';
    await assert.rejects(openDatabase({ url: url.toString() }), (error: unknown) => {
      assert.ok(error instanceof HangarError);
      assert.match(error.message, /password authentication failed/);
      assert.match(error.message, /check the user name and password/);
      assert.ok(!error.message.includes('not-the-password'));
      return true;
    });
  });

  it('says to create a database that does not exist', async () => {
    const url = new URL(postgresUrl ?? '');
    url.pathname = '/hangar_no_such_database';
    await assert.rejects(
      openDatabase({ url: url.toString() }),
      /database hangar_no_such_database.*create the database hangar_no_such_database/,
    );
  });
});

describe('testBackends', () => {
  it('always offers SQLite, and PostgreSQL when a server URL is set', () => {
    assert.deepEqual(
      testBackends({}).map((backend) => backend.kind),
      ['sqlite'],
    );
    const url = 'postgres://u:p@127.0.0.1:1/postgres';
    assert.deepEqual(
      testBackends({ [testPostgresUrlVariable]: url }).map((backend) => backend.kind),
      ['sqlite', 'postgres'],
    );
  });

  it('refuses to skip PostgreSQL silently in CI', () => {
    assert.throws(() => testBackends({ CI: 'true' }), /CI is set but HANGAR_TEST_POSTGRES_URL/);
  });
});
