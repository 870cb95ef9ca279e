import type { Environment } from '@hangar/api';
import { fetchLifecycleLog, lastLines } from './gateway.js';
import type { HttpClient } from './http-client.js';
import type { Output } from './output.js';
import type { WatchResult } from './watch.js';
import { asHangarError } from './errors.js';

const lifecycleFailure = 'LifecycleCommandFailed';
const logLines = 30;

/** What a person reads about a failed environment: reason, message, and the log's end. */
export async function reportFailure(
  api: HttpClient,
  out: Output,
  environment: Environment,
): Promise<void> {
  const failure = environment.status.failure;
  if (!failure) {
    out.info(`${environment.name} failed without a reason; \`hangar env get ${environment.name}\``);
    return;
  }
  const step = failure.step ? ` in ${failure.step}` : '';
  const exit = failure.exitCode !== undefined ? `, exit code ${failure.exitCode}` : '';
  out.info(`${environment.name} failed${step}${exit}: ${failure.reason}`);
  out.info(`  ${failure.message.split('\n').join('\n  ')}`);
  if (failure.reason !== lifecycleFailure) return;
  try {
    const lines = lastLines(await fetchLifecycleLog(api, environment.id), logLines);
    out.info(`last ${lines.length} lines of the lifecycle log:`);
    for (const line of lines) out.info(`  | ${line}`);
  } catch (error) {
    out.warn(`could not fetch the lifecycle log: ${asHangarError(error).message}`);
  }
}

/** The exit code of a wait, after saying how it ended. */
export async function finishWait(
  api: HttpClient,
  out: Output,
  result: WatchResult,
): Promise<number> {
  const { environment, outcome } = result;
  if (outcome === 'reached') return 0;
  if (outcome === 'failed') await reportFailure(api, out, environment);
  if (outcome === 'deleted') out.info(`${environment.name} was deleted while waiting`);
  if (outcome === 'superseded') {
    out.info(
      `${environment.name} was asked to become ${environment.spec.desiredPhase} while waiting`,
    );
  }
  return 1;
}
