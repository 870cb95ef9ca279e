import {
  HangarError,
  canonicalJson,
  sha256Hex,
  type AccessClaims,
  type ExecRequest,
} from '@hangar/api';
import type { EnvdClient, ExecOutcome } from '../providers/provider.js';
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
  'audit' | 'envd' | 'logCommand' | 'remoteEnv' | 'workspaceFolder'
>;

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
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
    return await runAudited(deps, envd, call);
  } finally {
    envd.close();
  }
}

async function runAudited(deps: ExecDeps, envd: EnvdClient, call: ExecCall): Promise<ExecOutcome> {
  const digest = commandDigest(call.request.command);
  await deps.logCommand({
    time: new Date().toISOString(),
    requestId: call.requestId,
    environmentId: call.environmentId,
    actor: call.claims.act,
    command: call.request.command,
    cwd: call.request.cwd ?? null,
    commandSha256: digest,
  });
  const base = {
    actor: call.claims.act,
    action: 'environment.exec',
    target: { kind: 'environment', id: call.environmentId },
    requestId: call.requestId,
    sourceAddress: call.sourceAddress,
  } as const;
  const facts = { commandSha256: digest, grant: call.claims.jti };
  await deps.audit
    .append({ ...base, outcome: 'success', details: { stage: 'start', ...facts } })
    .catch((error: unknown) => {
      throw new HangarError(
        'audit_unavailable',
        `the command was not run: its audit record could not be queued on the runner ` +
          `(${reasonOf(error)}); check the runner's data directory, then retry`,
        { cause: error },
      );
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
    await deps.audit.append({
      ...base,
      outcome: 'failure',
      details: { stage: 'end', ...facts, error: String(error).slice(0, 200) },
    });
    throw error;
  }
  await deps.audit.append({
    ...base,
    outcome: 'success',
    details: {
      stage: 'end',
      ...facts,
      exitCode: outcome.exitCode,
      signal: outcome.signal,
      timedOut: outcome.timedOut,
      durationMs: Math.round(outcome.durationMs),
    },
  });
  return outcome;
}
