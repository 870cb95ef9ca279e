import type { ServerChannel } from 'ssh2';
import { runExec } from '../gateway/exec-service.js';
import type { ExecOutcome } from '../providers/provider.js';
import {
  endChannel,
  failChannel,
  type ByteCounter,
  type ChannelContext,
  type ChannelExit,
} from './channel-context.js';
import { InputPump, closeSignal, writeWithBackpressure } from './streams.js';

export function exitOf(outcome: Pick<ExecOutcome, 'exitCode' | 'signal'>): ChannelExit {
  if (outcome.signal) return { signal: outcome.signal };
  return { code: outcome.exitCode ?? 255 };
}

/**
 * Runs a command without a terminal on an accepted channel, as an audited exec (see
 * `runExec`): the channel's input is the command's stdin, stdout and stderr go back as the
 * channel's data and extended data, each side waiting for the other (the SSH window one way,
 * envd's socket the other). No timeout: an SSH command runs as long as its client stays. A
 * client that closes the channel ends the command. Resolves with how it ended, or undefined
 * when it could not run (the client was told why).
 */
export async function runPipedCommand(
  context: ChannelContext,
  channel: ServerChannel,
  options: { command: string[]; env: Record<string, string>; count: ByteCounter },
): Promise<ChannelExit | undefined> {
  const gone = closeSignal(channel);
  const input = new InputPump(channel, options.count.in);
  const { count } = options;
  const { grant } = context;
  try {
    const outcome = await runExec(context.deps, {
      claims: grant.claims,
      environmentId: grant.environmentId,
      request: { command: options.command, env: options.env },
      stdin: input,
      requestId: context.requestId,
      sourceAddress: context.sourceAddress,
      onStdout: (chunk) => {
        count.out(chunk.length);
        return writeWithBackpressure(channel, chunk, gone);
      },
      onStderr: (chunk) => {
        count.out(chunk.length);
        return writeWithBackpressure(channel.stderr, chunk, gone);
      },
      signal: gone,
    });
    input.stop();
    const exit = exitOf(outcome);
    await endChannel(channel, gone, exit);
    return exit;
  } catch (error) {
    input.stop();
    await failChannel(context, channel, gone, error);
    return undefined;
  }
}
