import { readdirSync, readFileSync } from 'node:fs';
import { constants } from 'node:os';

/** The signals a client may send to a process's group; anything else is refused. */
export const allowedSignals = [
  'SIGHUP',
  'SIGINT',
  'SIGQUIT',
  'SIGTERM',
  'SIGKILL',
  'SIGUSR1',
  'SIGUSR2',
  'SIGSTOP',
  'SIGCONT',
  'SIGTSTP',
  'SIGWINCH',
  'SIGALRM',
] as const;

export type AllowedSignal = (typeof allowedSignals)[number];

export function isAllowedSignal(value: unknown): value is AllowedSignal {
  return typeof value === 'string' && (allowedSignals as readonly string[]).includes(value);
}

/** `SIGTERM` for 15; null for 0 or a number this system does not name. */
export function signalName(signal: number | null | undefined): string | null {
  if (!signal) return null;
  for (const [name, value] of Object.entries(constants.signals)) {
    if (value === signal) return name;
  }
  return null;
}

/** Sends `signal` to the process group `pgid`; false when the group is gone. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** The session id of `pid` from /proc (field 6 of its stat line); undefined once it is gone. */
function sessionOf(pid: number): number | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const session = text.slice(text.lastIndexOf(')') + 2).split(' ')[3];
    return session === undefined ? undefined : Number(session);
  } catch {
    return undefined;
  }
}

/**
 * Sends `signal` to the group `leader` leads and to every process of the session it leads: a
 * shell on a terminal moves its jobs into groups of their own, and ending the command must end
 * those too. A process that started a session of its own has left and is not found here.
 */
export function signalSession(leader: number, signal: NodeJS.Signals): void {
  signalGroup(leader, signal);
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === leader || sessionOf(pid) !== leader) continue;
    try {
      process.kill(pid, signal);
    } catch {
      // ESRCH: gone meanwhile, as wanted.
    }
  }
}
