import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AuditPage } from '../audit/types.js';
import type { ExportCheck } from '../audit/verify-export.js';
import type { LoadState } from '../load.js';
import { auditRecordFixture as record, exportCheckFixture } from '../testing/audit-fixtures.js';
import { assertLabelled, ignore, markup } from '../testing/markup.js';
import { AuditFilters, filtersOf, localInputOf, utcOf } from './AuditFilters.js';
import { AuditRecordDetail } from './AuditRecordDetail.js';
import { AuditView, type AuditViewProps } from './AuditView.js';

function page(
  check: LoadState<ExportCheck>,
  records: LoadState<AuditPage>,
  extra: Partial<AuditViewProps> & { pageNumber?: number; filtered?: boolean } = {},
): string {
  const { pageNumber = 1, filtered = false, ...rest } = extra;
  return markup(
    <AuditView
      chain={{
        check,
        pinnedKey: '',
        onVerify: ignore,
        onPinKey: ignore,
        onDownloadJsonLines: ignore,
        onDownloadExport: ignore,
      }}
      filters={{ filters: {}, pageSize: 25, onApply: ignore, onClear: ignore }}
      records={{
        records,
        page: pageNumber,
        filtered,
        selectedSeq: null,
        onSelect: ignore,
        onPrevious: ignore,
        onNext: ignore,
      }}
      selected={undefined}
      onCloseDetail={ignore}
      {...rest}
    />,
  );
}

const loading = { kind: 'loading' } as const;
const ready = <T,>(data: T) => ({ kind: 'ready', data }) as const;
const twoRecords = ready<AuditPage>({ records: [record(1), record(2)] });

test('audit: loading states of the check and the records, downloads not offered yet', () => {
  const html = page(loading, loading);
  assert.match(html, /<h1>Audit<\/h1>/);
  assert.match(html, /role="status">Verifying the audit chain…</);
  assert.match(html, /role="status">Loading audit records…</);
  assert.match(html, /disabled="">Verify again</);
  assert.match(html, /disabled="">Download records \(JSON Lines\)</);
  assert.match(html, /disabled="">Download the export \(JSON\)</);
  assertLabelled(html);
});

test('audit: errors of the check and of the records are announced', () => {
  const html = page(
    { kind: 'error', message: 'the control plane did not export it: no permission' },
    { kind: 'error', message: 'the control plane answered 503' },
  );
  assert.match(
    html,
    /role="alert">Could not verify the audit chain: the control plane did not export it: no permission</,
  );
  assert.match(html, /role="alert">Could not load audit records: the control plane answered 503</);
  assert.doesNotMatch(html, /<table/);
  assert.match(html, /disabled="">Download records/);
  assert.doesNotMatch(html, /disabled="">Verify again/);
});

test('audit: empty log, empty filter result and the end of the pages each say so', () => {
  const empty = ready<AuditPage>({ records: [] });
  assert.match(page(loading, empty), /role="status">No audit records yet\.</);
  assert.match(page(loading, empty, { filtered: true }), /No audit records match these filters\./);
  assert.match(page(loading, empty, { pageNumber: 3 }), /No more audit records\./);
});

test('audit: a verified chain shows its counts, head hash and the key it trusted', () => {
  const html = page(ready(exportCheckFixture()), twoRecords);
  assert.match(html, /data-verification="verified"/);
  assert.match(html, /<strong>Verified<\/strong>: 42 records, 3 signed checkpoints, head seq 42\./);
  assert.ok(html.includes(`<code class="hash">${'ab'.repeat(32)}</code>`));
  assert.match(html, /<code>SHA256:key[a-z]+<\/code> \(the control plane&#x27;s key\)/);
  assert.doesNotMatch(html, /no signed checkpoint/);
  assert.doesNotMatch(html, /disabled="">Download/);

  const unsigned = page(ready(exportCheckFixture({ checkpoints: 0 })), twoRecords);
  assert.match(unsigned, /The export holds no signed checkpoint/);
  const pinned = page(
    ready(exportCheckFixture({ keySource: 'pinned', exportKeyFingerprint: 'SHA256:other' })),
    twoRecords,
  );
  assert.match(pinned, /\(the key you pinned\)/);
  assert.match(pinned, /The export names signing key <code>SHA256:other<\/code>, not the trusted/);
});

test('audit: a broken chain is announced with the seq and reason, and marked in the table', () => {
  const problem = { seq: 2, reason: 'its contents do not match its hash (edited)' };
  const check = exportCheckFixture({ ok: false, headSeq: 1, problem });
  const html = page(ready(check), twoRecords);
  assert.match(html, /role="alert" data-verification="broken" data-seq="2"/);
  assert.match(
    html,
    /<strong>Broken<\/strong> at record seq 2: its contents do not match its hash \(edited\)\./,
  );
  assert.match(html, /it verifies up to seq 1, and nothing from seq 2 on can be trusted\./);
  const signature = { seq: 29, reason: 'checkpoint signature is not valid' };
  const late = page(
    ready(exportCheckFixture({ ok: false, headSeq: 91, problem: signature })),
    twoRecords,
  );
  assert.match(late, /it verifies up to seq 28, and nothing from seq 29 on/);
  assert.match(html, /<tr data-seq="2" class="broken">/);
  assert.match(html, /2<span class="problem-mark"> \(fails verification\)<\/span>/);
  assert.doesNotMatch(html, /data-seq="1" class="broken"/);
});

test('audit: the records table shows each record and the paging that applies', () => {
  const agent = record(7, {
    actor: { kind: 'agent', id: 'agt_aaaaaaaaaaaaaaaa', onBehalfOf: 'usr_bbbbbbbbbbbbbbbb' },
    action: 'environment.exec',
    target: null,
    outcome: 'denied',
  });
  const html = page(loading, ready<AuditPage>({ records: [record(6), agent], nextCursor: 'c' }), {
    pageNumber: 2,
  });
  assert.match(html, /<caption>Audit records, page 2 \(seq 6 to 7\)<\/caption>/);
  assert.match(html, /<th scope="col">Seq<\/th>/);
  assert.match(
    html,
    /<code>agent:agt_a+ for usr_b+<\/code><\/td><td>environment.exec<\/td><td><code>—<\/code>/,
  );
  assert.match(html, /class="outcome outcome-denied">denied</);
  assert.match(html, /Show <span class="visually-hidden">record 7<\/span>/);
  assert.match(html, /aria-label="Audit record pages"/);
  assert.doesNotMatch(html, /disabled="">Previous page/);
  assert.doesNotMatch(html, /disabled="">Next page/);
  assert.match(html, /Page 2/);

  const first = page(loading, ready<AuditPage>({ records: [record(1)], nextCursor: 'c' }));
  assert.match(first, /disabled="">Previous page/);
  const last = page(loading, ready<AuditPage>({ records: [record(9)] }), { pageNumber: 2 });
  assert.match(last, /disabled="">Next page/);
  assert.doesNotMatch(page(loading, twoRecords), /Audit record pages/);
});

test('audit: a record detail shows every field it was hashed with', () => {
  const agent = record(12, {
    actor: { kind: 'agent', id: 'agt_aaaaaaaaaaaaaaaa', onBehalfOf: 'usr_bbbbbbbbbbbbbbbb' },
    details: { commandSha256: 'cd'.repeat(32), exitCode: 0, masked: true, note: null },
  });
  const html = markup(<AuditRecordDetail record={agent} problem={undefined} onClose={ignore} />);
  assert.match(html, /<h3 id="record-12-title" tabindex="-1">Record 12: environment.create<\/h3>/);
  const fields: [string, string][] = [
    ['Seq', '12'],
    ['Time', '<code>2026-12-04T10:00:12.000Z</code>'],
    ['Actor kind', 'agent'],
    ['Actor id', '<code>agt_aaaaaaaaaaaaaaaa</code>'],
    ['On behalf of', '<code>usr_bbbbbbbbbbbbbbbb</code>'],
    ['Action', 'environment.create'],
    ['Target', 'environment <code>env_aaaaaaaaaaaaaaaa</code>'],
    ['Outcome', 'success'],
    ['Request id', '<code>req-12</code>'],
    ['Source address', '<code>127.0.0.1</code>'],
    ['Organization', '<code>org_aaaaaaaaaaaaaaaa</code>'],
    ['Hash', `<code class="hash">${'12'.padStart(64, 'f')}</code>`],
    ['Previous hash', `<code class="hash">${'11'.padStart(64, '0')}</code>`],
  ];
  for (const [name, value] of fields)
    assert.ok(html.includes(`<dt>${name}</dt><dd>${value}`), name);
  assert.ok(html.includes(`<dt>commandSha256</dt><dd><code>&quot;${'cd'.repeat(32)}&quot;</code>`));
  assert.match(html, /<dt>exitCode<\/dt><dd><code>0<\/code>/);
  assert.match(html, /<dt>note<\/dt><dd><code>null<\/code>/);
  assert.match(html, />Close record 12</);
  assert.doesNotMatch(html, /chain check fails/);

  const bare = record(3, { target: null, details: {} });
  const problem = { seq: 3, reason: 'its previous-hash link does not match the chain' };
  const broken = markup(<AuditRecordDetail record={bare} problem={problem} onClose={ignore} />);
  assert.match(broken, /The chain check fails at this record: its previous-hash link/);
  assert.match(broken, /<dt>On behalf of<\/dt><dd>—<\/dd>/);
  assert.match(broken, /<dt>Target<\/dt><dd>—<\/dd>/);
  assert.match(broken, /<dt>Details<\/dt><dd>—<\/dd>/);
});

test('audit: the open detail is shown above the records of its page', () => {
  const html = page(loading, twoRecords, { selected: record(2) });
  assert.ok(html.indexOf('Record 2: environment.create') < html.indexOf('<table'));
});

test('audit filters: empty fields are left out, local times become UTC', () => {
  const form = new FormData();
  for (const name of ['actor', 'action', 'target', 'since', 'until']) form.set(name, '');
  form.set('pageSize', '10');
  assert.deepEqual(filtersOf(form), { filters: {}, pageSize: 10 });
  form.set('actor', ' usr_aaaaaaaaaaaaaaaa ');
  form.set('action', 'environment.*');
  form.set('target', 'env_aaaaaaaaaaaaaaaa');
  form.set('since', '2026-12-04T10:00');
  form.set('until', 'not a time');
  form.set('pageSize', '7');
  assert.deepEqual(filtersOf(form), {
    filters: {
      actor: 'usr_aaaaaaaaaaaaaaaa',
      action: 'environment.*',
      target: 'env_aaaaaaaaaaaaaaaa',
      since: new Date('2026-12-04T10:00').toISOString(),
    },
    pageSize: 25,
  });
  assert.equal(utcOf(''), undefined);
  assert.equal(localInputOf(utcOf('2026-12-04T10:05')), '2026-12-04T10:05');
  assert.equal(localInputOf('garbage'), '');
});

test('audit filters: the fields show the filters in force, each labelled', () => {
  const since = new Date('2026-12-04T09:30').toISOString();
  const html = markup(
    <AuditFilters
      filters={{ action: 'runner.*', since }}
      pageSize={50}
      onApply={ignore}
      onClear={ignore}
    />,
  );
  assert.match(html, /type="text" name="action" value="runner.\*"/);
  assert.match(html, /type="datetime-local" name="since" value="2026-12-04T09:30"/);
  assert.match(html, /<option value="50" selected="">50<\/option>/);
  assert.match(html, />Apply filters</);
  assert.match(html, />Clear filters</);
  assertLabelled(html);
});
