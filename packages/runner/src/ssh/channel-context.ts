import type { ServerChannel } from 'ssh2';
import { HangarError } from '@hangar/api';
import type { Logger } from '../logger.js';
import type { SessionHandle } from '../sessions/registry.js';
import type { SshGrant } from './auth.js';
import { sshSignalName } from './commands.js';
import type { SshDeps } from './deps.js';
import { finished } from './streams.js';

/** What every channel of one authenticated connection shares. */
export interface ChannelContext {
  deps: SshDeps;
  grant: SshGrant;
  /** The connection's session: the bytes of all its channels count here. */
  session: SessionHandle;
  requestId: string;
  sourceAddress: string;
  log: Logger;
}

/** Where a channel's bytes are counted: the connection's session, and maybe one of its own. */
export interface ByteCounter {
  in: (bytes: number) => void;
  out: (bytes: number) => void;
}

export function counterFor(sessions: readonly SessionHandle[]): ByteCounter {
  return {
    in: (bytes) => {
      for (const session of sessions) session.addBytesIn(bytes);
    },
    out: (bytes) => {
      for (const session of sessions) session.addBytesOut(bytes);
    },
  };
}

/** How a command ended, as the client is told. */
export type ChannelExit = { code: number } | { signal: string };

/**
 * Ends a session channel as sshd does: the rest of stderr, then `exit-status` (or
 * `exit-signal`), then EOF and close. Nothing is sent on a channel the client already closed.
 */
export async function endChannel(
  channel: ServerChannel,
  gone: AbortSignal,
  exit: ChannelExit,
): Promise<void> {
  await finished(channel.stderr, gone);
  if (gone.aborted || !channel.writable) return;
  if ('code' in exit) channel.exit(exit.code);
  else channel.exit(sshSignalName(exit.signal), false, '');
  channel.end();
}

/** A failure the client sees on stderr, in the runner's words, before exit status 255. */
export async function failChannel(
  context: ChannelContext,
  channel: ServerChannel,
  gone: AbortSignal,
  error: unknown,
): Promise<void> {
  const hangar = error instanceof HangarError ? error : undefined;
  if (!hangar) context.log.error({ err: error }, 'an ssh channel failed');
  const message = hangar?.message ?? 'the request failed on the runner; see its log';
  if (!gone.aborted && channel.writable) channel.stderr.write(`hangar: ${message}\r\n`);
  await endChannel(channel, gone, { code: 255 });
}
