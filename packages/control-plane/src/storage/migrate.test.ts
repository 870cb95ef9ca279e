import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { HangarError } from '@hangar/api';
import { migrate } from './migrate.js';
import { migrations, type Migration } from './migrations.js';
import { openDatabase } from './open.js';
import { testBackends, type TestDatabase } from './testing.js';

const latest = migrations.at(-1)?.version ?? 0;

const testMigrations: Migration[] = [
  { version: 1, name: 'first', statements: ['CREATE TABLE a (id BIGINT PRIMARY KEY)'] },
  {
    version: 2,
    name: 'second',
    statements: ['CREATE TABLE b (id BIGINT PRIMARY KEY, a_id BIGINT REFERENCES a(id))'],
  },
];

async function tables(handle: TestDatabase): Promise<string[]> {
  const sql =
    handle.db.kind === 'sqlite'
      ? "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
      : "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename";
  const rows = await handle.db.query<{ name: string }>(sql);
  return rows.map((row) => row.name);
}

for (const backend of testBackends()) {
  describe(`migrate on ${backend.kind}`, () => {
    const opened: TestDatabase[] = [];
    const fresh = async () => {
      const handle = await backend.open({ migrate: false });
      opened.push(handle);
      return handle;
    };

    after(async () => {
      for (const handle of opened) await handle.close();
    });

    it('applies every migration once, in order, and records each', async () => {
      const handle = await fresh();
      const result = await migrate(handle.db);
      assert.deepEqual(
        result.applied,
        migrations.map((migration) => migration.version),
      );
      assert.equal(result.version, latest);
      const rows = await handle.db.query<{ version: number; name: string; applied_at: number }>(
        'SELECT version, name, applied_at FROM schema_migrations ORDER BY version',
      );
      assert.deepEqual(
        rows.map(({ version, name }) => ({ version, name })),
        migrations.map(({ version, name }) => ({ version, name })),
      );
      assert.ok(rows.every((row) => typeof row.applied_at === 'number' && row.applied_at > 0));
      assert.ok((await tables(handle)).includes('audit_records'));
    });

    it('is idempotent: a second run applies nothing and changes nothing', async () => {
      const handle = await fresh();
      await migrate(handle.db);
      const before = await handle.db.query('SELECT * FROM schema_migrations ORDER BY version');
      const second = await migrate(handle.db);
      assert.deepEqual(second, { applied: [], version: latest });
      assert.deepEqual(
        await handle.db.query('SELECT * FROM schema_migrations ORDER BY version'),
        before,
      );
    });

    it('applies only what is pending when the code knows more migrations', async () => {
      const handle = await fresh();
      const first = await migrate(handle.db, { migrations: testMigrations.slice(0, 1) });
      assert.deepEqual(first, { applied: [1], version: 1 });
      const second = await migrate(handle.db, { migrations: testMigrations });
      assert.deepEqual(second, { applied: [2], version: 2 });
      assert.deepEqual(await tables(handle), ['a', 'b', 'schema_migrations']);
    });

    it('is safe when several control planes migrate one database at once', async () => {
      const handle = await fresh();
      const others = await Promise.all(
        [1, 2, 3].map(() => openDatabase({ url: handle.url, migrate: false })),
      );
      try {
        const results = await Promise.all([handle.db, ...others].map((db) => migrate(db)));
        const applied = results.flatMap((result) => result.applied).sort((a, b) => a - b);
        assert.deepEqual(
          applied,
          migrations.map((migration) => migration.version),
        );
        const rows = await handle.db.query('SELECT version FROM schema_migrations');
        assert.equal(rows.length, migrations.length);
      } finally {
        for (const db of others) await db.close();
      }
    });

    it('refuses a database migrated by a newer build, changing nothing', async () => {
      const handle = await fresh();
      await migrate(handle.db);
      await handle.db.execute(
        'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
        [latest + 1, 'from-the-future', Date.now()],
      );
      await assert.rejects(migrate(handle.db), (error: unknown) => {
        assert.ok(error instanceof HangarError);
        assert.match(error.message, new RegExp(`version ${latest + 1}, newer than this build`));
        assert.match(error.message, /run the Hangar release that migrated it/);
        return true;
      });
      await assert.rejects(openDatabase({ url: handle.url }), /newer than this build knows/);
    });

    it('refuses a database whose recorded history differs from the code', async () => {
      const handle = await fresh();
      await migrate(handle.db, { migrations: testMigrations.slice(0, 1) });
      const renamed: Migration[] = [{ ...testMigrations[0]!, name: 'renamed' }];
      await assert.rejects(
        migrate(handle.db, { migrations: renamed }),
        /records migration 1 as "first", but this build calls it "renamed"/,
      );
    });

    it('rolls back a failing migration whole and does not record it', async () => {
      const handle = await fresh();
      const broken: Migration[] = [
        ...testMigrations.slice(0, 1),
        {
          version: 2,
          name: 'broken',
          statements: ['CREATE TABLE c (id BIGINT)', 'CREATE TABLE c (id BIGINT)'],
        },
      ];
      await assert.rejects(migrate(handle.db, { migrations: broken }));
      assert.deepEqual(await tables(handle), ['a', 'schema_migrations']);
      const rows = await handle.db.query('SELECT version FROM schema_migrations');
      assert.deepEqual(rows, [{ version: 1 }]);
    });

    it('refuses a migration list whose versions do not increase', async () => {
      const handle = await fresh();
      const unordered = [testMigrations[1]!, testMigrations[0]!];
      await assert.rejects(migrate(handle.db, { migrations: unordered }), /versions must increase/);
    });
  });
}

describe('the released migrations', () => {
  it('start at 1 and increase by one', () => {
    assert.deepEqual(
      migrations.map((migration) => migration.version),
      migrations.map((_, index) => index + 1),
    );
  });

  it('are each named', () => {
    assert.ok(migrations.every((migration) => /^[a-z][a-z0-9-]*$/.test(migration.name)));
  });
});
