import type { Io } from '../io.js';
import type { Output } from '../output.js';

/**
 * Waits for SIGINT or SIGTERM, then runs `stop` (which closes the parts in order) and returns
 * exit code 0, or 1 when stopping failed.
 */
export async function serveUntilStopped(
  io: Io,
  out: Output,
  stop: () => Promise<void>,
): Promise<number> {
  const signal = await io.waitForStop();
  out.info(`${signal}: stopping (press Ctrl-C again to force)`);
  try {
    await stop();
  } catch (error) {
    out.warn(`stopping failed: ${(error as Error).message}`);
    return 1;
  }
  out.info('stopped');
  return 0;
}
