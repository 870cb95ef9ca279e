import { readFileSync, readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** What /proc says about a process: its state letter, parent and start time in clock ticks. */
export interface ProcStat {
  state: string;
  ppid: number;
  startTicks: string;
}

/** Reads /proc/<pid>/stat; undefined when the process is gone. */
export function procStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const ppid = fields[1];
  const startTicks = fields[19];
  if (state === undefined || ppid === undefined || startTicks === undefined) return undefined;
  return { state, ppid: Number(ppid), startTicks };
}

/**
 * True while `pid` is the same process that was recorded (its start time matches, so a reused
 * pid does not count) and has not exited (a zombie waiting to be reaped has).
 */
export function isSameProcessAlive(pid: number, startTicks: string): boolean {
  const stat = procStat(pid);
  return stat !== undefined && stat.startTicks === startTicks && stat.state !== 'Z';
}

export function childPids(pid: number): number[] {
  const children: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return children;
  }
  for (const task of tasks) {
    try {
      const text = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8');
      for (const item of text.split(' ')) if (item.trim() !== '') children.push(Number(item));
    } catch {
      continue;
    }
  }
  return children;
}

/** Every process below `pid`, parents before children. */
export function descendantPids(pid: number): number[] {
  const found: number[] = [];
  const queue = childPids(pid);
  while (queue.length > 0) {
    const next = queue.shift();
    if (next === undefined || found.includes(next)) continue;
    found.push(next);
    queue.push(...childPids(next));
  }
  return found;
}

export function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // ESRCH: already gone.
  }
}

/** Polls `done` every `intervalMs` until it holds (true) or `timeoutMs` passes (false). */
export async function waitFor(
  done: () => boolean,
  options: { timeoutMs: number; intervalMs?: number },
): Promise<boolean> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (done()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(options.intervalMs ?? 10);
  }
}
