import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { HangarError, type AuditQuery, type AuditRecord } from '@hangar/api';
import { testBackends, type TestDatabase } from '../storage/testing.js';
import { AuditLog, type AuditEntry } from './audit-log.js';
import { decodeCursor, encodeCursor } from './audit-query.js';

const { privateKey } = generateKeyPairSync('ed25519');
const orgId = 'org_query00000';
const start = Date.UTC(2024, 4, 1, 12, 0, 0);
const minute = 60_000;

/** Record n (1-based) happens n minutes after `start`. */
const seeds: Omit<AuditEntry, 'orgId' | 'outcome' | 'requestId' | 'sourceAddress'>[] = [
  {
    actor: { kind: 'user', id: 'usr_alice' },
    action: 'environment.create',
    target: { kind: 'environment', id: 'env_1' },
    details: {},
  },
  {
    actor: { kind: 'user', id: 'usr_bob' },
    action: 'environment.create',
    target: { kind: 'environment', id: 'env_2' },
    details: {},
  },
  {
    actor: { kind: 'agent', id: 'agt_1', onBehalfOf: 'usr_alice' },
    action: 'environment.exec',
    target: { kind: 'environment', id: 'env_1' },
    details: { exitCode: 0 },
  },
  {
    actor: { kind: 'user', id: 'usr_alice' },
    action: 'environment.file.write',
    target: { kind: 'environment', id: 'env_1' },
    details: {},
  },
  {
    actor: { kind: 'user', id: 'usr_alice' },
    action: 'runner.create',
    target: { kind: 'runner', id: 'run_1' },
    details: {},
  },
  {
    actor: { kind: 'system', id: 'control-plane' },
    action: 'auth.failure',
    target: null,
    details: {},
  },
  {
    actor: { kind: 'user', id: 'usr_bob' },
    action: 'environment.stop',
    target: { kind: 'environment', id: 'env_2' },
    details: {},
  },
  {
    actor: { kind: 'user', id: 'usr_alice' },
    action: 'environments.list',
    target: null,
    details: {},
  },
];

function seqs(records: readonly AuditRecord[]): number[] {
  return records.map((record) => record.seq);
}

function refusesField(field: string) {
  return (error: unknown) => {
    assert.ok(error instanceof HangarError);
    assert.equal(error.code, 'invalid_request');
    assert.deepEqual(
      error.fields?.map((item) => item.field),
      [field],
    );
    return true;
  };
}

describe('audit cursors', () => {
  it('round-trip a sequence number', () => {
    for (const seq of [1, 99, 2 ** 40]) assert.equal(decodeCursor(encodeCursor(seq)), seq);
  });

  it('refuse anything this server did not issue', () => {
    const forged = [
      '',
      'abc',
      '12',
      encodeCursor(5) + '=',
      Buffer.from('a1:0').toString('base64url'),
      Buffer.from('a1:-3').toString('base64url'),
      Buffer.from('a1:05').toString('base64url'),
      Buffer.from('a2:5').toString('base64url'),
      Buffer.from('a1:99999999999999999').toString('base64url'),
      'x'.repeat(60),
    ];
    for (const cursor of forged) assert.throws(() => decodeCursor(cursor), refusesField('cursor'));
  });
});

for (const backend of testBackends()) {
  describe(`audit query on ${backend.kind}`, () => {
    let handle: TestDatabase;
    let audit: AuditLog;

    before(async () => {
      handle = await backend.open();
      audit = new AuditLog({ db: handle.db, signingKey: privateKey });
      for (const [index, seed] of seeds.entries()) {
        await audit.record({
          ...seed,
          orgId,
          outcome: 'success',
          requestId: `req_${index + 1}`,
          sourceAddress: '127.0.0.1',
          time: new Date(start + (index + 1) * minute),
        });
      }
      await audit.record({
        ...seeds[0]!,
        orgId: 'org_other',
        outcome: 'success',
        requestId: 'r',
        sourceAddress: 'x',
      });
    });

    after(async () => {
      await handle.close();
    });

    const cases: [string, AuditQuery, number[]][] = [
      ['no filter: every record of the org, oldest first', {}, [1, 2, 3, 4, 5, 6, 7, 8]],
      ['actor id', { actor: 'usr_bob' }, [2, 7]],
      ['actor id that never acted', { actor: 'usr_nobody' }, []],
      ['exact action', { action: 'environment.create' }, [1, 2]],
      ['action prefix', { action: 'environment.*' }, [1, 2, 3, 4, 7]],
      ['nested action prefix', { action: 'environment.file.*' }, [4]],
      ['target id', { target: 'env_1' }, [1, 3, 4]],
      ['since, inclusive', { since: new Date(start + 6 * minute).toISOString() }, [6, 7, 8]],
      ['until, exclusive', { until: new Date(start + 3 * minute).toISOString() }, [1, 2]],
      [
        'a time window in another offset',
        { since: '2024-05-01T14:02:00+02:00', until: '2024-05-01T12:04:00Z' },
        [2, 3],
      ],
      [
        'filters combined',
        { actor: 'usr_alice', action: 'environment.*', target: 'env_1' },
        [1, 4],
      ],
    ];
    for (const [name, query, expected] of cases) {
      it(`filters by ${name}`, async () => {
        const page = await audit.query(orgId, query);
        assert.deepEqual(seqs(page.records), expected);
        assert.equal(page.nextCursor, undefined);
      });
    }

    it('returns whole records, identical to the export', async () => {
      const page = await audit.query(orgId, { actor: 'agt_1' });
      const exported = await audit.export(orgId);
      assert.deepEqual(page.records, [exported.records[2]]);
    });

    it('walks every record exactly once with the cursor, at every page size', async () => {
      for (const limit of [1, 2, 3, 7, 8, 9]) {
        const seen: number[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await audit.query(orgId, { limit, ...(cursor ? { cursor } : {}) });
          assert.ok(page.records.length <= limit);
          seen.push(...seqs(page.records));
          cursor = page.nextCursor;
          pages += 1;
        } while (cursor !== undefined);
        assert.deepEqual(seen, [1, 2, 3, 4, 5, 6, 7, 8], `limit ${limit}`);
        assert.equal(pages, Math.ceil(8 / limit), `limit ${limit}`);
      }
    });

    it('pages through a filtered listing', async () => {
      const first = await audit.query(orgId, { action: 'environment.*', limit: 2 });
      assert.deepEqual(seqs(first.records), [1, 2]);
      assert.ok(first.nextCursor);
      const second = await audit.query(orgId, {
        action: 'environment.*',
        limit: 2,
        cursor: first.nextCursor,
      });
      assert.deepEqual(seqs(second.records), [3, 4]);
      const third = await audit.query(orgId, {
        action: 'environment.*',
        limit: 2,
        cursor: second.nextCursor ?? '',
      });
      assert.deepEqual(seqs(third.records), [7]);
      assert.equal(third.nextCursor, undefined);
    });

    it('defaults to pages of 100', async () => {
      const many = 'org_many';
      for (let index = 0; index < 101; index += 1) {
        await audit.record({
          ...seeds[0]!,
          orgId: many,
          outcome: 'success',
          requestId: 'r',
          sourceAddress: 'x',
        });
      }
      const page = await audit.query(many, {});
      assert.equal(page.records.length, 100);
      const rest = await audit.query(many, { cursor: page.nextCursor ?? '' });
      assert.deepEqual(seqs(rest.records), [101]);
    });

    it('refuses bad input, naming the field', async () => {
      const bad: [AuditQuery, string][] = [
        [{ cursor: 'not-a-cursor' }, 'cursor'],
        [{ limit: 0 }, 'limit'],
        [{ limit: 1001 }, 'limit'],
        [{ limit: 2.5 }, 'limit'],
        [{ since: 'last tuesday' }, 'since'],
        [{ until: '2024-13-45T99:00:00Z' }, 'until'],
        [{ since: '2024-05-02T00:00:00Z', until: '2024-05-01T00:00:00Z' }, 'until'],
        [{ action: '*' }, 'action'],
        [{ action: '.*' }, 'action'],
        [{ action: 'env*' }, 'action'],
        [{ action: 'a.*.b' }, 'action'],
      ];
      for (const [query, field] of bad) {
        await assert.rejects(audit.query(orgId, query), refusesField(field), JSON.stringify(query));
      }
    });
  });
}
