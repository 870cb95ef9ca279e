import type { Client, Result } from '../../client.js';
import {
  gatewayClient,
  gatewaySocket,
  grantFor,
  type GatewayClient,
  type Grant,
  type Operation,
  type PortEntry,
} from '../../gateway.js';
import type { SocketTarget } from '../../terminal/terminal-connection.js';

/** A grant is asked for again this long before it expires. */
const renewBeforeMs = 30_000;

/**
 * One grant for the page's reads from the gateway (logs, ports), reused until it nears its
 * expiry: each grant is an audit record, so a page that polls does not ask for one each time.
 */
export class GrantCache {
  private grant: Grant | undefined;
  private pending: Promise<Result<Grant>> | undefined;

  constructor(
    private readonly client: Client,
    private readonly environmentId: string,
    private readonly operations: Operation[],
  ) {}

  get(): Promise<Result<Grant>> {
    const grant = this.grant;
    if (grant && Date.parse(grant.expiresAt) - Date.now() > renewBeforeMs) {
      return Promise.resolve({ ok: true, data: grant });
    }
    this.pending ??= grantFor(this.client, this.environmentId, this.operations).then((result) => {
      this.pending = undefined;
      this.grant = result.ok ? result.data : undefined;
      return result;
    });
    return this.pending;
  }

  /** The gateway refused the grant (expired early, or this clock is behind): ask anew. */
  forget(): void {
    this.grant = undefined;
  }
}

/**
 * Runs one gateway call with the cached grant, and once more with a new grant if the gateway
 * said the grant is no good. Failures to reach the gateway are named as such.
 */
export async function withGateway<T>(
  grants: GrantCache,
  call: (gateway: GatewayClient) => Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<Result<T>> {
  for (let attempt = 0; ; attempt += 1) {
    const grant = await grants.get();
    if (!grant.ok) return grant;
    const result = await gatewayResultOf(call(gatewayClient(grant.data)));
    if (result.ok || result.status !== 401 || attempt > 0) return result;
    grants.forget();
  }
}

async function gatewayResultOf<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<Result<T>> {
  try {
    const { data, error, response } = await call;
    if (response.ok) return { ok: true, data: data as T };
    return { ok: false, message: gatewayMessageOf(error, response), status: response.status };
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return {
      ok: false,
      message: `the runner's gateway could not be reached (${detail})`,
      status: 0,
    };
  }
}

function gatewayMessageOf(error: unknown, response: Response): string {
  if (typeof error === 'object' && error !== null && 'message' in error) {
    const { message } = error;
    if (typeof message === 'string') return message;
  }
  return `the runner's gateway answered ${response.status} ${response.statusText}`.trim();
}

/** The end of the lifecycle log, as text. */
export async function readLogs(grants: GrantCache, id: string): Promise<Result<string>> {
  const result = await withGateway(grants, (gateway) =>
    gateway.GET('/v1/environments/{id}/logs', { params: { path: { id } }, parseAs: 'text' }),
  );
  // An empty log has no body, which openapi-fetch hands over as no data at all.
  return result.ok ? { ok: true, data: result.data ?? '' } : result;
}

export async function readPorts(grants: GrantCache, id: string): Promise<Result<PortEntry[]>> {
  const result = await withGateway(grants, (gateway) =>
    gateway.GET('/v1/environments/{id}/ports', { params: { path: { id } } }),
  );
  return result.ok ? { ok: true, data: result.data.ports } : result;
}

/** Where the next terminal connection goes, with a grant of its own asked for just now. */
export async function terminalTarget(client: Client, id: string): Promise<Result<SocketTarget>> {
  const grant = await grantFor(client, id, ['terminal']);
  if (!grant.ok) return grant;
  return {
    ok: true,
    data: gatewaySocket(grant.data, `/v1/environments/${encodeURIComponent(id)}/terminal`),
  };
}
