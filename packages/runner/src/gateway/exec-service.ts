import {
  HangarError,
  canonicalJson,
  sha256Hex,
  type AccessClaims,
  type ExecRequest,
} from '@hangar/api';
import type { AuditDraft } from '../audit-queue.js';
import type { EnvdClient, ExecOutcome } from '../providers/provider.js';
import { Masker } from '../secrets/masker.js';
import type { GatewayDeps } from './deps.js';

export interface ExecCall {
  claims: AccessClaims;
  environmentId: string;
  request: Omit<ExecRequest, 'stdin'>;
  stdin?: Buffer | AsyncIterable<Buffer>;
  requestId: string;
  sourceAddress: string;
  onStdout: (chunk: Buffer) => void | Promise<void>;
  onStderr: (chunk: Buffer) => void | Promise<void>;
  signal?: AbortSignal;
}

/** The digest an exec audit record carries instead of the command text. */
export function commandDigest(command: readonly string[]): string {
  return sha256Hex(canonicalJson(command));
}

/** What running a command needs from the gateway. */
export type ExecDeps = Pick<
  GatewayDeps,
  'audit' | 'envd' | 'logCommand' | 'remoteEnv' | 'workspaceFolder' | 'maskerOf'
>;

/** A command about to start: what its command-log line and its audit records say. */
export interface CommandStart {
  claims: AccessClaims;
  environmentId: string;
  requestId: string;
  sourceAddress: string;
  action: 'environment.exec' | 'environment.process.start';
  command: readonly string[];
  /** The working directory the command log names; absent for the environment's default. */
  cwd: string | undefined;
  /** Names a detached command in the command log. */
  kind?: 'process';
  /** Behind a pseudo-terminal: said in the command log and in every record. */
  pty?: boolean;
  /** Facts every record carries besides the command's digest and the grant. */
  facts?: Record<string, string | number>;
  /** The stage of the records that follow the start: `end`, or `spawned` for a detached one. */
  nextStage: 'end' | 'spawned';
  /** What the refusal says did not happen, such as "the command was not run". */
  notDone: string;
}

/** Appends a record after the start, with the given outcome and facts of its own. */
export type CommandRecorder = (
  outcome: 'success' | 'failure',
  details: AuditDraft['details'],
) => Promise<unknown>;

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * What a failed command's audit record says: the stable error code only. The message can hold
 * the program name or a path from the command, and audit records reach the control plane,
 * which holds only the command's digest; the message goes to the runner's own log.
 */
export function auditableFailure(error: unknown): { error: string } {
  return { error: error instanceof HangarError ? error.code : 'internal' };
}

/**
 * Writes the full command text to the runner's local command log, then queues a record with
 * `stage: 'start'` that holds only its SHA-256; rejects, so the command does not start, when
 * either cannot be written. Resolves with the recorder for the records that follow.
 */
export async function auditCommandStart(
  deps: Pick<GatewayDeps, 'audit' | 'logCommand'>,
  start: CommandStart,
): Promise<CommandRecorder> {
  const digest = commandDigest(start.command);
  const pty = start.pty ? { pty: true } : {};
  await deps.logCommand({
    time: new Date().toISOString(),
    requestId: start.requestId,
    environmentId: start.environmentId,
    actor: start.claims.act,
    ...(start.kind ? { kind: start.kind } : {}),
    command: start.command,
    cwd: start.cwd ?? null,
    commandSha256: digest,
    ...pty,
  });
  const base = {
    actor: start.claims.act,
    action: start.action,
    target: { kind: 'environment', id: start.environmentId },
    requestId: start.requestId,
    sourceAddress: start.sourceAddress,
  } as const;
  const facts = { commandSha256: digest, grant: start.claims.jti, ...pty, ...start.facts };
  await deps.audit
    .append({ ...base, outcome: 'success', details: { stage: 'start', ...facts } })
    .catch((error: unknown) => {
      throw new HangarError(
        'audit_unavailable',
        `${start.notDone}: its audit record could not be queued on the runner ` +
          `(${reasonOf(error)}); check the runner's data directory, then retry`,
        { cause: error },
      );
    });
  return (outcome, details) =>
    deps.audit.append({
      ...base,
      outcome,
      details: { stage: start.nextStage, ...facts, ...details },
    });
}

/**
 * Runs one command for a verified grant. The full command text is written to the runner's local
 * command log first, then an `environment.exec` record with `stage: 'start'` is queued; if
 * either cannot be written the command does not run (fail closed), so a runner that dies while
 * the command runs has still reported it. A second record, `stage: 'end'`, follows with the exit
 * code and duration. Records that reach the control plane hold the command's SHA-256, never
 * its text.
 */
export async function runExec(deps: ExecDeps, call: ExecCall): Promise<ExecOutcome> {
  const envd = await deps.envd(call.environmentId);
  try {
    return await runAudited(deps, envd, call.request.mask ? masked(deps, call) : call);
  } finally {
    envd.close();
  }
}

/**
 * The call with its output masked (`mask: true`): each stream through its own stream masker,
 * whose held-back end is sent once the command has ended.
 */
function masked(deps: ExecDeps, call: ExecCall): ExecCall & { flush: () => Promise<void> } {
  const masker = deps.maskerOf?.(call.environmentId) ?? Masker.none;
  const out = masker.stream();
  const err = masker.stream();
  const send = (to: ExecCall['onStdout'], chunk: Buffer) =>
    chunk.length > 0 ? to(chunk) : undefined;
  return {
    ...call,
    onStdout: (chunk) => send(call.onStdout, out.push(chunk)),
    onStderr: (chunk) => send(call.onStderr, err.push(chunk)),
    flush: async () => {
      await send(call.onStdout, out.end());
      await send(call.onStderr, err.end());
    },
  };
}

async function runAudited(
  deps: ExecDeps,
  envd: EnvdClient,
  call: ExecCall & { flush?: () => Promise<void> },
): Promise<ExecOutcome> {
  const record = await auditCommandStart(deps, {
    ...call,
    action: 'environment.exec',
    command: call.request.command,
    cwd: call.request.cwd,
    nextStage: 'end',
    notDone: 'the command was not run',
  });
  let outcome: ExecOutcome;
  try {
    outcome = await envd.exec({
      command: call.request.command,
      cwd: call.request.cwd ?? deps.workspaceFolder(call.environmentId),
      env: { ...deps.remoteEnv(call.environmentId), ...call.request.env },
      ...(call.stdin ? { stdin: call.stdin } : {}),
      ...(call.request.timeoutMs ? { timeoutMs: call.request.timeoutMs } : {}),
      onStdout: call.onStdout,
      onStderr: call.onStderr,
      ...(call.signal ? { signal: call.signal } : {}),
    });
  } catch (error) {
    await record('failure', auditableFailure(error));
    throw error;
  }
  await call.flush?.();
  await record('success', {
    exitCode: outcome.exitCode,
    signal: outcome.signal,
    timedOut: outcome.timedOut,
    durationMs: Math.round(outcome.durationMs),
  });
  return outcome;
}
