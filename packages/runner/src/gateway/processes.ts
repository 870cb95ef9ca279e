import { HangarError, type AccessClaims, type ProcessInfoBody } from '@hangar/api';
import type { EnvdClient, ProcessInfo } from '../providers/provider.js';

/**
 * The labels the gateway puts on every process it asks envd to keep: what started it and who,
 * so that a caller lists, attaches to and signals only their own.
 */
export const processLabel = {
  kind: 'kind',
  actor: 'actor',
  request: 'request',
  /** `1` when its starter asked for its output to be masked (`mask: true`). */
  mask: 'mask',
} as const;

/** Whether the process's output is to be masked for every client that reads it. */
export function wantsMask(info: ProcessInfo): boolean {
  return info.labels[processLabel.mask] === '1';
}

export type ProcessKind = 'command' | 'terminal';

export function labelsFor(
  kind: ProcessKind,
  claims: AccessClaims,
  requestId: string,
): Record<string, string> {
  return {
    [processLabel.kind]: kind,
    [processLabel.actor]: claims.act.id,
    [processLabel.request]: requestId,
  };
}

export function isOwnedBy(info: ProcessInfo, claims: AccessClaims): boolean {
  return info.labels[processLabel.actor] === claims.act.id;
}

/** The caller's own process, or `not_found` (another actor's process is not shown to exist). */
export async function ownProcess(
  envd: EnvdClient,
  claims: AccessClaims,
  processId: string,
  kind?: ProcessKind,
): Promise<ProcessInfo> {
  const found = (await envd.listProcesses()).find(
    (info) =>
      info.id === processId &&
      isOwnedBy(info, claims) &&
      (kind === undefined || info.labels[processLabel.kind] === kind),
  );
  if (!found) {
    const what = kind === 'terminal' ? 'terminal' : 'process';
    throw new HangarError(
      'not_found',
      `no ${what} ${processId} of yours in environment ${claims.env}; ` +
        '`hangar env ps` lists yours (envd keeps a bounded number of ended ones)',
    );
  }
  return found;
}

/** A process as the gateway's API shows it: without the labels, with its kind. */
export function processBody(info: ProcessInfo): ProcessInfoBody {
  return {
    id: info.id,
    kind: info.labels[processLabel.kind] ?? 'other',
    command: info.command,
    pty: info.pty,
    pid: info.pid,
    startedAt: info.startedAt,
    state: info.state,
    exitCode: info.exitCode,
    signal: info.signal,
    timedOut: info.timedOut,
    endedAt: info.endedAt,
    outputBytes: info.outputBytes,
  };
}
