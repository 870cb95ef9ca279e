import type { AuditExport } from './types.js';

/** The export's records as JSON Lines: one record per line, oldest first, each line JSON. */
export function jsonLinesOf(exported: AuditExport): string {
  return exported.records.map((record) => `${JSON.stringify(record)}\n`).join('');
}

/** The whole export as `hangar audit export` prints it, for `hangar audit verify --file`. */
export function exportFileOf(exported: AuditExport): string {
  return `${JSON.stringify(exported, null, 2)}\n`;
}

/** A file name that says whose log it is and when it was taken: `hangar-audit-<org>-<time>`. */
export function exportFileName(exported: AuditExport, now: Date, extension: string): string {
  const stamp = now
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replaceAll(':', '-');
  return `hangar-audit-${exported.orgId}-${stamp}.${extension}`;
}

/**
 * Hands `text` to the browser as a download. The file is a blob: URL followed by a link the page
 * clicks, which the dashboard's CSP allows (no inline script, no request to another origin).
 */
export function saveFile(name: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // The download has started from the click; the URL is released once it has surely been read.
  setTimeout(() => URL.revokeObjectURL(url), revokeAfterMs);
}

const revokeAfterMs = 60_000;
