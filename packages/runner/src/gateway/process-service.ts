import type { AccessClaims, ProcessStart } from '@hangar/api';
import type { EnvdClient, ProcessInfo } from '../providers/provider.js';
import { Masker } from '../secrets/masker.js';
import type { GatewayDeps } from './deps.js';
import { auditableFailure, auditCommandStart } from './exec-service.js';
import { labelsFor, processLabel, wantsMask } from './processes.js';

/** A durable command runs for a day unless its caller names a shorter or longer bound. */
export const defaultProcessTimeoutMs = 24 * 3600 * 1000;

export interface ProcessCall {
  claims: AccessClaims;
  environmentId: string;
  requestId: string;
  sourceAddress: string;
}

/**
 * Starts a command that runs on without its client, bounded by its timeout. As with exec, the
 * full text goes to the runner's command log and an `environment.process.start` record with
 * `stage: 'start'` is queued before anything runs (if either fails, nothing runs); a second
 * record, `stage: 'spawned'` with the process id, or a failure, follows.
 */
export async function startProcess(
  deps: GatewayDeps,
  envd: EnvdClient,
  call: ProcessCall & { request: ProcessStart },
): Promise<ProcessInfo> {
  const { request, claims, environmentId } = call;
  const timeoutMs = request.timeoutMs ?? defaultProcessTimeoutMs;
  const cwd = request.cwd ?? deps.workspaceFolder(environmentId);
  const record = await auditCommandStart(deps, {
    ...call,
    action: 'environment.process.start',
    command: request.command,
    cwd,
    kind: 'process',
    facts: { timeoutMs },
    nextStage: 'spawned',
    notDone: 'the command was not started',
  });
  deps.activity.touch(environmentId);
  let info: ProcessInfo;
  try {
    info = await envd.spawnProcess({
      command: request.command,
      ...(cwd !== undefined ? { cwd } : {}),
      env: { ...deps.remoteEnv(environmentId), ...request.env },
      timeoutMs,
      labels: {
        ...labelsFor('command', claims, call.requestId),
        ...(request.mask ? { [processLabel.mask]: '1' } : {}),
      },
    });
  } catch (error) {
    await record('failure', auditableFailure(error));
    throw error;
  }
  await record('success', { process: info.id, pid: info.pid });
  return info;
}

/** Signals the process's whole group; audited `environment.process.signal` either way. */
export async function signalOwnProcess(
  deps: GatewayDeps,
  envd: EnvdClient,
  call: ProcessCall & { info: ProcessInfo; signal: NodeJS.Signals },
): Promise<void> {
  const record = (outcome: 'success' | 'failure', extra: Record<string, string> = {}) =>
    deps.audit.append({
      actor: call.claims.act,
      action: 'environment.process.signal',
      target: { kind: 'environment', id: call.environmentId },
      outcome,
      requestId: call.requestId,
      sourceAddress: call.sourceAddress,
      details: {
        process: call.info.id,
        signal: call.signal,
        grant: call.claims.jti,
        state: call.info.state,
        ...extra,
      },
    });
  try {
    await envd.signalProcess(call.info.id, call.signal);
  } catch (error) {
    await record('failure', auditableFailure(error));
    throw error;
  }
  await record('success');
}

/**
 * The last `tailBytes` of a process's output, from `fromOffset` on at the earliest, read by
 * attaching from that offset and detaching once the bytes produced up to `info.outputBytes`
 * arrived (or the process ended). The tail covers the output's bytes `from` to
 * `info.outputBytes`, whatever masking did to its length.
 */
export async function outputTail(
  envd: EnvdClient,
  info: ProcessInfo,
  range: { tailBytes: number; fromOffset?: number },
  masker: Masker = Masker.none,
): Promise<{ from: number; data: Buffer }> {
  const tail = await rawOutputTail(envd, info, range);
  // Known gap: a value cut by the start of the tail shows its end unmasked; the offsets count
  // the process's own bytes, not the masked ones.
  return wantsMask(info) ? { from: tail.from, data: masker.mask(tail.data) } : tail;
}

async function rawOutputTail(
  envd: EnvdClient,
  info: ProcessInfo,
  range: { tailBytes: number; fromOffset?: number },
): Promise<{ from: number; data: Buffer }> {
  const last = info.outputBytes;
  const wanted = Math.min(last, Math.max(0, range.fromOffset ?? 0, last - range.tailBytes));
  if (wanted === last) return { from: last, data: Buffer.alloc(0) };
  const chunks: Buffer[] = [];
  let from: number | undefined;
  let finish: () => void = () => undefined;
  const enough = new Promise<void>((resolve) => (finish = resolve));
  const attached = await envd.attachProcess(info.id, {
    fromOffset: wanted,
    onOutput: (chunk, _stream, offset) => {
      const start = Math.max(offset, wanted);
      const end = Math.min(offset + chunk.length, last);
      if (end > start) {
        from ??= start;
        chunks.push(chunk.subarray(start - offset, end - offset));
      }
      if (offset + chunk.length >= last) finish();
    },
  });
  if (attached.replayedFrom >= last) finish();
  await Promise.race([enough, attached.done]);
  attached.detach();
  return { from: from ?? last, data: Buffer.concat(chunks) };
}

/**
 * Waits for the process to exit for at most `timeoutMs`; resolves with its state then, still
 * `running` when the time ran out. `signal` ends the wait early (the client went away).
 */
export async function waitAtMost(
  envd: EnvdClient,
  info: ProcessInfo,
  options: { timeoutMs: number; signal: AbortSignal },
): Promise<ProcessInfo> {
  if (info.state === 'exited' || options.timeoutMs === 0) return info;
  const stop = AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)]);
  try {
    return await envd.waitProcess(info.id, { signal: stop });
  } catch (error) {
    if (!stop.aborted) throw error;
    const now = (await envd.listProcesses()).find((entry) => entry.id === info.id);
    return now ?? info;
  }
}
