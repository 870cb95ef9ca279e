import type { Duplex } from 'node:stream';
import type { AcceptConnection, RejectConnection, ServerChannel, TcpipRequestInfo } from 'ssh2';
import type { EnvdClient } from '../providers/provider.js';
import { counterFor, type ChannelContext } from './channel-context.js';

/** The hosts `ssh -L` may reach, all inside the environment's own network namespace. */
const loopbackHosts: Record<string, string> = {
  localhost: '127.0.0.1',
  '127.0.0.1': '127.0.0.1',
  '::1': '::1',
  '[::1]': '::1',
};

/** The address to dial inside the environment, or undefined for one that is not loopback. */
export function forwardTarget(info: Pick<TcpipRequestInfo, 'destIP' | 'destPort'>) {
  const host = loopbackHosts[info.destIP.toLowerCase()];
  const port = info.destPort;
  if (!host || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { host, port };
}

/**
 * A `direct-tcpip` channel (`ssh -L`): a TCP connection dialled by envd from inside the
 * environment, to loopback only, so the runner's own network is never reached through it. The
 * channel opens only once that connection is up, so a closed port is an open failure, as with
 * sshd. Bytes each way count in the connection's session; each side's backpressure holds the
 * other.
 */
export async function forwardTcp(
  context: ChannelContext,
  accept: AcceptConnection<ServerChannel>,
  reject: RejectConnection,
  info: TcpipRequestInfo,
): Promise<void> {
  const target = forwardTarget(info);
  if (!target) {
    context.log.info(
      { destination: info.destIP.slice(0, 100), port: info.destPort },
      'ssh port forward refused: only localhost inside the environment may be reached',
    );
    reject();
    return;
  }
  let envd: EnvdClient | undefined;
  let socket: Duplex;
  try {
    envd = await context.deps.envd(context.grant.environmentId);
    socket = await envd.connectTcp(target.port, target.host);
  } catch (error) {
    context.log.debug({ err: error, port: target.port }, 'ssh port forward could not connect');
    envd?.close();
    reject();
    return;
  }
  const channel = accept();
  const count = counterFor([context.session]);
  context.deps.activity.touch(context.grant.environmentId);
  channel.on('data', (chunk: Buffer) => count.in(chunk.length));
  socket.on('data', (chunk: Buffer) => count.out(chunk.length));
  channel.pipe(socket);
  socket.pipe(channel);
  socket.on('error', (error) => {
    context.log.debug({ err: error, port: target.port }, 'forwarded connection failed');
  });
  // An end (or a reset) inside ends the channel once what it still holds was sent.
  socket.on('close', () => {
    if (!channel.writableEnded) channel.end();
  });
  channel.on('close', () => {
    socket.destroy();
    envd?.close();
  });
}
