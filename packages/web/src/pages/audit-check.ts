import type { AuditExport } from '../audit/types.js';
import { checkExport, type ExportCheck } from '../audit/verify-export.js';
import { resultOf, type Client, type Result } from '../client.js';

/** The export as the control plane returned it, and what this browser made of it. */
export interface ChainCheckData {
  exported: AuditExport;
  check: ExportCheck;
}

// Known gap: the whole chain is fetched, held and hashed in the tab (one SHA-256 per record), so a
// very long chain takes long to check and memory to hold; a streamed export checked in a worker,
// or from the last checkpoint this browser saw, would close it. Unless the reader pins a key, the
// key comes from the same control plane as the chain: a pinned key (or `hangar audit verify
// --public-key`) is what catches a control plane that re-signs a rewritten chain with a new key.

/**
 * Fetches the whole chain (`GET /v1/audit/export`, which signs a checkpoint of the head first)
 * and the key to trust (the pinned one, else `GET /v1/health`), and verifies it in the browser.
 */
export async function loadChainCheck(
  client: Client,
  pinnedKey: string,
): Promise<Result<ChainCheckData>> {
  const [exported, health] = await Promise.all([
    resultOf(client.GET('/v1/audit/export')),
    pinnedKey ? undefined : resultOf(client.GET('/v1/health')),
  ]);
  if (!exported.ok) {
    return { ...exported, message: `the control plane did not export it: ${exported.message}` };
  }
  if (health && !health.ok) {
    return { ...health, message: `the control plane's key could not be read: ${health.message}` };
  }
  const trusted = health
    ? { key: health.data.publicKey, source: 'control-plane' as const }
    : { key: pinnedKey, source: 'pinned' as const };
  try {
    return {
      ok: true,
      data: { exported: exported.data, check: await checkExport(exported.data, trusted) },
    };
  } catch (error) {
    return {
      ok: false,
      message: error instanceof Error ? error.message : String(error),
      status: 0,
    };
  }
}
