import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { Condition } from '@hangar/api';

/**
 * What the provider keeps on disk about a sandbox that runs or may run, so a restarted runner
 * finds it again: the keeper process (the sandbox's root on the host) and the cgroups. Written
 * before the sandbox is launched, so a crash during start still leaves a trail to clean up.
 */
export interface RunningRecord {
  version: 1;
  environmentId: string;
  /** The keeper: a shell that joined the cgroups and waits on bwrap; undefined before launch. */
  keeperPid?: number;
  keeperStartTicks?: string;
  /** The sandbox user's uid on the host (processes inside run as it). */
  hostUid: number;
  cgroupDirs: string[];
  /**
   * This boot's envd secret, as hex: envd proves it holds the same on every connection. Absent
   * in records of sandboxes started before envd proved itself; those must be restarted.
   */
  envdSecret?: string;
  conditions: Condition[];
  startedAt: string;
}

export function readRecord(path: string): RunningRecord | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const record = JSON.parse(text) as Partial<RunningRecord>;
    if (record.version !== 1 || !Array.isArray(record.cgroupDirs)) return undefined;
    return record as RunningRecord;
  } catch {
    return undefined;
  }
}

/** Replaces the record in one rename, so a reader never sees half of it. */
export function writeRecord(path: string, record: RunningRecord): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, path);
}

export function deleteRecord(path: string): void {
  rmSync(path, { force: true });
}
