import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import ssh2 from 'ssh2';
import {
  defaultConnectionLimits,
  serveConnection,
  type ConnectionLimits,
  type ServedConnection,
} from './client-connection.js';
import type { SshDeps } from './deps.js';
import type { HostKey } from './host-key.js';

export interface SshServerOptions {
  host: string;
  port: number;
  /** `host` or `host:port` clients dial; the listen address (and real port) when absent. */
  publicAddress?: string;
  hostKey: HostKey;
  /** How often the server probes a quiet client; it is dropped after 3 unanswered probes. */
  keepaliveIntervalMs?: number;
  limits?: Partial<ConnectionLimits>;
}

export interface RunningSshServer {
  /** `host:port` (`[v6]:port`) as clients dial it; what the runner publishes. */
  address: string;
  port: number;
  /** OpenSSH public key lines, for clients to pin. */
  hostKeys: string[];
  close(): Promise<void>;
}

const wildcards = new Set(['0.0.0.0', '::', '[::]']);

function bracketed(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/**
 * What clients dial: the configured address (`host`, `host:port` or `[v6]:port`, checked by the
 * runner's configuration), the real port added when it names none; else the listen address.
 */
export function publicAddressOf(options: { host: string; publicAddress?: string }, port: number) {
  const configured = options.publicAddress;
  if (configured) return /:\d+$/.test(configured) ? configured : `${configured}:${port}`;
  const host = wildcards.has(options.host) ? hostname() : options.host;
  return `${bracketed(host)}:${port}`;
}

/**
 * The runner's SSH gateway: one port for every environment it holds. `ssh <env>@<host> -p
 * <port>` logs in with a key the control plane knows and reaches that environment's shell,
 * commands, sftp and loopback ports; the bytes go between the client and the environment only.
 * Transport keepalives drop dead clients; a command has no timeout of its own.
 */
export async function startSshServer(
  deps: SshDeps,
  options: SshServerOptions,
): Promise<RunningSshServer> {
  const limits = { ...defaultConnectionLimits, ...options.limits };
  const live = new Set<ServedConnection>();
  const server = new ssh2.Server(
    {
      hostKeys: [options.hostKey.privateKey],
      ident: 'Hangar',
      keepaliveInterval: options.keepaliveIntervalMs ?? 15_000,
      keepaliveCountMax: 3,
    },
    (client, info) => {
      const served = serveConnection(deps, client, info, limits);
      live.add(served);
      client.on('close', () => live.delete(served));
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error: Error) => deps.logger.error({ err: error }, 'ssh server error'));
  const port = (server.address() as AddressInfo).port;
  return {
    address: publicAddressOf(options, port),
    port,
    hostKeys: [options.hostKey.publicLine],
    close: async () => {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const connection of live) connection.end('the runner is stopping');
      await stopped;
    },
  };
}
