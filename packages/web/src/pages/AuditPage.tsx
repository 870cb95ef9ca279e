import { useState } from 'react';
import { useApp } from '../app-context.js';
import { exportFileName, exportFileOf, jsonLinesOf, saveFile } from '../audit/json-lines.js';
import type { ExportCheck } from '../audit/verify-export.js';
import { resultOf } from '../client.js';
import { useLoad, type LoadState } from '../load.js';
import type { AuditFilterValues } from '../views/AuditFilters.js';
import { AuditView } from '../views/AuditView.js';
import { loadChainCheck } from './audit-check.js';

const defaultPageSize = 25;

interface Listing {
  filters: AuditFilterValues;
  pageSize: number;
  /** The cursor of each page after the first that the reader went to, in order. */
  cursors: string[];
}

const firstPage = (filters: AuditFilterValues = {}, pageSize = defaultPageSize): Listing => ({
  filters,
  pageSize,
  cursors: [],
});

/** The audit page: the chain verified in this browser, the filtered log, a record's detail. */
export function AuditPage() {
  const { client } = useApp();
  const [pinnedKey, setPinnedKey] = useState('');
  // Each check is a new round, so the page shows "Verifying…" again rather than the old answer.
  const [round, setRound] = useState(0);
  const chain = useLoad(() => loadChainCheck(client, pinnedKey), `${round}:${pinnedKey}`);
  const [listing, setListing] = useState<Listing>(firstPage());
  const [selectedSeq, setSelectedSeq] = useState<number | null>(null);
  const cursor = listing.cursors.at(-1);
  const query = { ...listing.filters, limit: listing.pageSize, ...(cursor ? { cursor } : {}) };
  const records = useLoad(
    () => resultOf(client.GET('/v1/audit', { params: { query } })),
    JSON.stringify(query),
  );

  const show = (next: Listing) => {
    setSelectedSeq(null);
    setListing(next);
  };
  const download = (extension: 'jsonl' | 'json') => {
    if (chain.state.kind !== 'ready') return;
    const { exported } = chain.state.data;
    const name = exportFileName(exported, new Date(), extension);
    if (extension === 'jsonl') saveFile(name, jsonLinesOf(exported), 'application/x-ndjson');
    else saveFile(name, exportFileOf(exported), 'application/json');
  };
  const check: LoadState<ExportCheck> =
    chain.state.kind === 'ready' ? { kind: 'ready', data: chain.state.data.check } : chain.state;
  const page = records.state.kind === 'ready' ? records.state.data : undefined;

  return (
    <AuditView
      chain={{
        check,
        pinnedKey,
        onVerify: () => setRound(round + 1),
        onPinKey: (key) => {
          setPinnedKey(key);
          setRound(round + 1);
        },
        onDownloadJsonLines: () => download('jsonl'),
        onDownloadExport: () => download('json'),
      }}
      filters={{
        filters: listing.filters,
        pageSize: listing.pageSize,
        onApply: (filters, pageSize) => show(firstPage(filters, pageSize)),
        onClear: () => show(firstPage({}, listing.pageSize)),
      }}
      records={{
        records: records.state,
        page: listing.cursors.length + 1,
        filtered: Object.keys(listing.filters).length > 0,
        selectedSeq,
        onSelect: setSelectedSeq,
        onPrevious: () => show({ ...listing, cursors: listing.cursors.slice(0, -1) }),
        onNext: () => {
          if (page?.nextCursor)
            show({ ...listing, cursors: [...listing.cursors, page.nextCursor] });
        },
      }}
      selected={page?.records.find((record) => record.seq === selectedSeq)}
      onCloseDetail={() => {
        const seq = selectedSeq;
        setSelectedSeq(null);
        // The keyboard goes back to the button that opened the detail, not to the page's top.
        requestAnimationFrame(() => {
          document.querySelector<HTMLButtonElement>(`tr[data-seq="${seq}"] button`)?.focus();
        });
      }}
    />
  );
}
