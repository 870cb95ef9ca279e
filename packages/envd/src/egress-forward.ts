import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { log } from './log.js';

/** Where the forwarder listens inside the sandbox and the runner's proxy socket it dials. */
export interface EgressForwardConfig {
  listenPort: number;
  socketPath: string;
}

export interface EgressForwarder {
  port: number;
  close(): Promise<void>;
}

/**
 * The sandbox has loopback only. This listens on 127.0.0.1:`listenPort` (what HTTP_PROXY names)
 * and carries each connection, byte for byte, to the runner's egress proxy over the unix socket
 * bound into the sandbox; the proxy decides. When the proxy is away the connection just closes.
 */
export async function startEgressForwarder(config: EgressForwardConfig): Promise<EgressForwarder> {
  const open = new Set<Socket>();
  const server: Server = createServer((client) => {
    open.add(client);
    const upstream = createConnection(config.socketPath);
    open.add(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', () => {
      open.delete(client);
      upstream.end();
    });
    upstream.on('close', () => {
      open.delete(upstream);
      client.end();
    });
  });
  server.on('error', (error: Error) =>
    log('error', 'egress forwarder failed', { error: error.message }),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.listenPort, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : config.listenPort,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
