import { canonicalJson, sha256Hex, type AccessClaims, type ExecRequest } from '@hangar/api';
import type { ExecOutcome } from '../providers/provider.js';
import type { GatewayDeps } from './deps.js';

export interface ExecCall {
  claims: AccessClaims;
  environmentId: string;
  request: Omit<ExecRequest, 'stdin'>;
  stdin?: Buffer | AsyncIterable<Buffer>;
  requestId: string;
  sourceAddress: string;
  onStdout: (chunk: Buffer) => void;
  onStderr: (chunk: Buffer) => void;
  signal?: AbortSignal;
}

/** The digest an exec audit record carries instead of the command text. */
export function commandDigest(command: readonly string[]): string {
  return sha256Hex(canonicalJson(command));
}

/**
 * Runs one command for a verified grant. The full command text is written to the runner's local
 * command log first; if that write fails the command does not run (fail closed). The audit record
 * that reaches the control plane holds the command's SHA-256, exit code and duration only.
 */
export async function runExec(deps: GatewayDeps, call: ExecCall): Promise<ExecOutcome> {
  const envd = await deps.envd(call.environmentId);
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
      details: {
        commandSha256: digest,
        grant: call.claims.jti,
        error: String(error).slice(0, 200),
      },
    });
    throw error;
  } finally {
    envd.close();
  }
  await deps.audit.append({
    ...base,
    outcome: 'success',
    details: {
      commandSha256: digest,
      exitCode: outcome.exitCode,
      signal: outcome.signal,
      timedOut: outcome.timedOut,
      durationMs: Math.round(outcome.durationMs),
      grant: call.claims.jti,
    },
  });
  return outcome;
}
