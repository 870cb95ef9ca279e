import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { Database, Queryable } from './database.js';
import { isUniqueViolation, openDatabase, parseDatabaseUrl } from './open.js';
import { openSqlite } from './sqlite.js';
import { testBackends, type TestDatabase } from './testing.js';

const schema = [
  'CREATE TABLE counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL)',
  'CREATE TABLE notes (id BIGINT PRIMARY KEY, body TEXT, at BIGINT)',
];

for (const backend of testBackends()) {
  describe(`database on ${backend.kind}`, () => {
    let handle: TestDatabase;
    let db: Database;

    before(async () => {
      handle = await backend.open();
      db = handle.db;
      for (const statement of schema) await db.execute(statement);
    });

    after(async () => {
      await handle.close();
    });

    it('reports its kind and row-lock clause', () => {
      assert.equal(db.kind, backend.kind);
      assert.equal(db.forUpdate, backend.kind === 'postgres' ? 'FOR UPDATE' : '');
    });

    it('returns BIGINT values as JS numbers and keeps text as text', async () => {
      const at = Date.UTC(2030, 0, 1);
      await db.execute('INSERT INTO notes (id, body, at) VALUES (?, ?, ?)', [1, '42', at]);
      const rows = await db.query(
        'SELECT id, body, at, COUNT(*) AS n FROM notes GROUP BY id, body, at',
      );
      assert.deepEqual(rows, [{ id: 1, body: '42', at, n: 1 }]);
    });

    it('binds a question mark inside a string literal as text, not a placeholder', async () => {
      const rows = await db.query("SELECT 'why?' AS q, ? AS p", ['answer']);
      assert.deepEqual(rows, [{ q: 'why?', p: 'answer' }]);
    });

    it('counts changed rows and returns RETURNING rows', async () => {
      await db.execute('INSERT INTO notes (id, body, at) VALUES (?, ?, ?), (?, ?, ?)', [
        2,
        'a',
        0,
        3,
        'b',
        0,
      ]);
      assert.equal(await db.execute('UPDATE notes SET at = ? WHERE id IN (?, ?)', [5, 2, 3]), 2);
      assert.equal(await db.execute('UPDATE notes SET at = 1 WHERE id = ?', [999]), 0);
      const rows = await db.query<{ id: number }>(
        'DELETE FROM notes WHERE id = ? RETURNING id',
        [3],
      );
      assert.deepEqual(rows, [{ id: 3 }]);
    });

    it('commits a transaction that resolves', async () => {
      const result = await db.transaction(async (tx) => {
        await tx.execute('INSERT INTO counters (name, value) VALUES (?, ?)', ['committed', 7]);
        return 'done';
      });
      assert.equal(result, 'done');
      assert.deepEqual(await db.query('SELECT value FROM counters WHERE name = ?', ['committed']), [
        { value: 7 },
      ]);
    });

    it('rolls back every statement of a transaction that throws, and rethrows', async () => {
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.execute('INSERT INTO counters (name, value) VALUES (?, ?)', ['rolled', 1]);
          await tx.execute('UPDATE counters SET value = 100 WHERE name = ?', ['committed']);
          throw new Error('changed my mind');
        }),
        /changed my mind/,
      );
      assert.deepEqual(await db.query('SELECT name, value FROM counters ORDER BY name'), [
        { name: 'committed', value: 7 },
      ]);
    });

    it('rolls back when a statement fails inside the transaction', async () => {
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.execute('INSERT INTO counters (name, value) VALUES (?, ?)', ['half', 1]);
          await tx.execute('INSERT INTO no_such_table VALUES (1)');
        }),
      );
      assert.deepEqual(await db.query('SELECT name FROM counters WHERE name = ?', ['half']), []);
    });

    it('serializes concurrent read-modify-write transactions on one row', async () => {
      await db.execute('INSERT INTO counters (name, value) VALUES (?, 0)', ['race']);
      const increment = () =>
        db.transaction(async (tx) => {
          const rows = await tx.query<{ value: number }>(
            `SELECT value FROM counters WHERE name = ? ${db.forUpdate}`,
            ['race'],
          );
          await sleep(20);
          await tx.execute('UPDATE counters SET value = ? WHERE name = ?', [
            (rows[0]?.value ?? 0) + 1,
            'race',
          ]);
        });
      await Promise.all(Array.from({ length: 8 }, increment));
      assert.deepEqual(await db.query('SELECT value FROM counters WHERE name = ?', ['race']), [
        { value: 8 },
      ]);
    });

    it('keeps statements issued outside a transaction out of it while it awaits', async () => {
      await db.execute('INSERT INTO counters (name, value) VALUES (?, 0)', ['outside']);
      const events: string[] = [];
      const transaction = db.transaction(async (tx) => {
        await tx.execute('UPDATE counters SET value = 1 WHERE name = ?', ['outside']);
        events.push('tx wrote 1');
        await sleep(50);
        throw new Error('roll back');
      });
      await sleep(5);
      const outside = db.query<{ value: number }>('SELECT value FROM counters WHERE name = ?', [
        'outside',
      ]);
      const seen = await outside;
      events.push(`outside saw ${seen[0]?.value}`);
      await assert.rejects(transaction, /roll back/);
      assert.equal(events[0], 'tx wrote 1');
      assert.equal(events[1], 'outside saw 0');
    });

    it('refuses statements on a transaction handle after the transaction ended', async () => {
      let leaked: Queryable | undefined;
      await db.transaction(async (tx) => {
        leaked = tx;
        await tx.query('SELECT 1 AS one');
      });
      assert.ok(leaked);
      await assert.rejects(leaked.query('SELECT 1 AS one'), /after its transaction ended/);
    });

    it('detects unique violations of a primary key and of a UNIQUE column', async () => {
      await db.execute('CREATE TABLE uniq (id BIGINT PRIMARY KEY, code TEXT UNIQUE)');
      await db.execute('INSERT INTO uniq (id, code) VALUES (1, ?)', ['a']);
      const primaryKey = await db
        .execute('INSERT INTO uniq (id, code) VALUES (1, ?)', ['b'])
        .catch((error: unknown) => error);
      const unique = await db
        .execute('INSERT INTO uniq (id, code) VALUES (2, ?)', ['a'])
        .catch((error: unknown) => error);
      const notNull = await db
        .execute('INSERT INTO counters (name, value) VALUES (?, NULL)', ['n'])
        .catch((error: unknown) => error);
      const syntax = await db.execute('INSERT INTO').catch((error: unknown) => error);
      assert.equal(isUniqueViolation(primaryKey), true);
      assert.equal(isUniqueViolation(unique), true);
      assert.equal(isUniqueViolation(new Error('wrapper', { cause: unique })), true);
      assert.equal(isUniqueViolation(notNull), false);
      assert.equal(isUniqueViolation(syntax), false);
      assert.equal(isUniqueViolation(new Error('UNIQUE constraint failed')), false);
      assert.equal(isUniqueViolation(undefined), false);
    });

    it('refuses statements after close, and close twice is harmless', async () => {
      const second = await backend.open();
      await second.db.close();
      await second.db.close();
      await assert.rejects(second.db.query('SELECT 1 AS one'), /already closed/);
      await second.close();
    });

    it('opens the same database again with its data intact', async () => {
      const again = await openDatabase({ url: handle.url });
      try {
        assert.deepEqual(
          await again.query('SELECT value FROM counters WHERE name = ?', ['committed']),
          [{ value: 7 }],
        );
      } finally {
        await again.close();
      }
    });
  });
}

describe('SQLite specifics', () => {
  const sqlite = testBackends().find((backend) => backend.kind === 'sqlite');
  let handle: TestDatabase;

  before(async () => {
    assert.ok(sqlite);
    handle = await sqlite.open();
  });

  after(async () => {
    await handle.close();
  });

  it('runs with WAL, foreign keys, NORMAL sync and a busy timeout', async () => {
    const [mode] = await handle.db.query('PRAGMA journal_mode');
    const [keys] = await handle.db.query('PRAGMA foreign_keys');
    const [sync] = await handle.db.query('PRAGMA synchronous');
    const [busy] = await handle.db.query('PRAGMA busy_timeout');
    assert.deepEqual(mode, { journal_mode: 'wal' });
    assert.deepEqual(keys, { foreign_keys: 1 });
    assert.deepEqual(sync, { synchronous: 1 });
    assert.ok(Number(Object.values(busy ?? {})[0]) > 0);
  });

  it('enforces foreign keys', async () => {
    await assert.rejects(
      handle.db.execute(
        `INSERT INTO users (id, org_id, external_key, role, created_at)
         VALUES ('u', 'nope', 'k', 'owner', 0)`,
      ),
      /FOREIGN KEY/,
    );
  });

  it('holds back a statement issued during a transaction until that transaction ends', async () => {
    const events: string[] = [];
    const transaction = handle.db.transaction(async () => {
      events.push('tx start');
      await sleep(30);
      events.push('tx end');
    });
    await sleep(1);
    await handle.db.query('SELECT 1 AS one');
    events.push('outside ran');
    await transaction;
    assert.deepEqual(events, ['tx start', 'tx end', 'outside ran']);
  });

  it('refuses, not deadlocks, a statement on the database inside its transaction', async () => {
    await assert.rejects(
      handle.db.transaction(async () => {
        await handle.db.query('SELECT 1 AS one');
      }),
      /use the transaction handle/,
    );
    await assert.rejects(
      handle.db.transaction(() => handle.db.transaction(() => Promise.resolve())),
      /use the transaction handle/,
    );
    assert.deepEqual(await handle.db.query('SELECT 1 AS one'), [{ one: 1 }]);
  });

  it('waits for a write lock held by another process without stalling', async () => {
    const holder = await holdWriteLock(handle.url, 300);
    let ticks = 0;
    const ticker = setInterval(() => (ticks += 1), 5);
    try {
      await handle.db.transaction(async (tx) => {
        await tx.execute('CREATE TABLE after_lock (id BIGINT)');
      });
    } finally {
      clearInterval(ticker);
    }
    await holder.exited;
    assert.ok(ticks > 0, 'timers ran while the lock was awaited');
    assert.deepEqual(await handle.db.query('SELECT COUNT(*) AS n FROM after_lock'), [{ n: 0 }]);
  });

  it('gives up with SQLITE_BUSY once its busy timeout has passed', async () => {
    const location = parseDatabaseUrl(handle.url);
    assert.equal(location.kind, 'sqlite');
    const impatient = await openSqlite({ path: location.path, busyTimeoutMs: 50 });
    const holder = await holdWriteLock(handle.url, 1000);
    try {
      await assert.rejects(
        impatient.transaction(() => Promise.resolve()),
        (error: unknown) => (error as { code?: string }).code === 'SQLITE_BUSY',
      );
    } finally {
      await impatient.close();
      await holder.exited;
    }
  });
});

const require = createRequire(import.meta.url);

/**
 * Starts another process that takes the SQLite write lock on the database at `url` and holds it
 * for `holdMs`; resolves once the lock is held, with a promise of that process's exit.
 */
async function holdWriteLock(url: string, holdMs: number): Promise<{ exited: Promise<void> }> {
  const location = parseDatabaseUrl(url);
  assert.equal(location.kind, 'sqlite');
  const script = `
    const Database = require(${JSON.stringify(require.resolve('better-sqlite3'))});
    const db = new Database(process.argv[1]);
    db.exec('BEGIN IMMEDIATE');
    process.stdout.write('locked\\n');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(process.argv[2]));
    db.exec('COMMIT');
  `;
  const child = spawn(process.execPath, ['-e', script, location.path, String(holdMs)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
  assert.match(chunk.toString(), /locked/);
  return { exited: once(child, 'exit').then(([code]) => assert.equal(code, 0)) };
}
