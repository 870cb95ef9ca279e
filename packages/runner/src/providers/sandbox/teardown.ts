import { childPids, descendantPids, isSameProcessAlive, signal, waitFor } from './processes.js';
import { removeCgroups } from './cgroups.js';
import type { RunningRecord } from './records.js';

/**
 * envd's pid on the host: the keeper runs the outer bwrap (setpriv execs into it), which runs
 * bwrap's init (pid 1 inside), which runs envd.
 */
export function envdHostPid(keeperPid: number): number | undefined {
  let pid: number | undefined = keeperPid;
  for (let depth = 0; depth < 3 && pid !== undefined; depth += 1) pid = childPids(pid)[0];
  return pid;
}

export function keeperAlive(record: RunningRecord): boolean {
  return (
    record.keeperPid !== undefined &&
    record.keeperStartTicks !== undefined &&
    isSameProcessAlive(record.keeperPid, record.keeperStartTicks)
  );
}

/**
 * Ends every process of a sandbox: SIGTERM to envd, which ends its commands and exits, and so
 * the pid namespace; after `graceMs`, SIGKILL to the keeper and everything below it (killing
 * bwrap's init ends the pid namespace at once); then whatever is left in the cgroups, which are
 * removed.
 */
export async function endSandbox(record: RunningRecord, options: { graceMs: number }) {
  if (keeperAlive(record) && record.keeperPid !== undefined) {
    const keeperPid = record.keeperPid;
    const envdPid = envdHostPid(keeperPid);
    if (envdPid !== undefined) signal(envdPid, 'SIGTERM');
    const ended = await waitFor(() => !keeperAlive(record), {
      timeoutMs: envdPid === undefined ? 0 : options.graceMs,
      intervalMs: 5,
    });
    if (!ended) {
      const below = descendantPids(keeperPid);
      signal(keeperPid, 'SIGKILL');
      for (const pid of below) signal(pid, 'SIGKILL');
      await waitFor(() => !keeperAlive(record), { timeoutMs: 5000, intervalMs: 5 });
    }
  }
  await removeCgroups(record.cgroupDirs);
}
