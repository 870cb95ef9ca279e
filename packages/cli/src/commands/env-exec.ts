import type { Readable } from 'node:stream';
import type { ExecResult } from '@hangar/api';
import { HangarError } from '@hangar/api/errors.js';
import { defineCommand } from '../command.js';
import { resolveEnvironment } from '../environments.js';
import { UsageError } from '../errors.js';
import { exitCodeOf, runExecStream, type ExecRequest } from '../exec-stream.js';
import { breakGlassFlags, breakGlassReason } from '../env-access.js';
import { gatewayClient, requestAccess, type GatewayAccess } from '../gateway.js';
import type { Output } from '../output.js';
import { startDetached } from '../process-client.js';
import { apiFlags, openSession } from '../session.js';

const envPattern = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s;
const commandPath = 'env exec';
const maxAttachedTimeoutS = 86400;

/** `--env K=V` pairs as an object; a bad one is a usage error naming it. */
export function envFrom(pairs: readonly string[]): Record<string, string> | undefined {
  if (pairs.length === 0) return undefined;
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const match = envPattern.exec(pair);
    if (!match) {
      throw new UsageError(
        `--env ${pair} is not NAME=VALUE with a NAME of letters, digits and _ (not first)`,
        { commandPath, fields: [{ field: 'env', message: 'must be NAME=VALUE' }] },
      );
    }
    env[match[1] ?? ''] = match[2] ?? '';
  }
  return env;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream)
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks);
}

/** With --json: one buffered request, the result as JSON (output base64, as the API has it). */
async function execBuffered(
  out: Output,
  access: GatewayAccess,
  request: ExecRequest,
  stdin: Readable | undefined,
): Promise<number> {
  const body: Record<string, unknown> = { ...request };
  if (stdin) body.stdin = (await readAll(stdin)).toString('base64');
  const result = await gatewayClient(access).post<ExecResult>(
    `/v1/environments/${encodeURIComponent(access.environmentId)}/exec`,
    body,
  );
  out.result(result, () => []);
  return exitCodeOf(result);
}

/** With --detach: starts the command on its own and prints its process id. */
async function execDetached(out: Output, access: GatewayAccess, request: ExecRequest) {
  const info = await startDetached(access, request);
  out.result(info, () => info.id);
  const env = access.environmentId;
  out.info(
    `started ${info.id}; \`hangar env attach ${env} ${info.id}\` follows it, ` +
      `\`hangar env wait ${env} ${info.id}\` waits for its exit code`,
  );
  return 0;
}

export const command = defineCommand({
  synopsis:
    '<env> [--detach] [--timeout S] [--cwd DIR] [--env K=V]... [--stdin|--no-stdin] ' +
    '[--mask] [--break-glass REASON] -- <command...>',
  description:
    "Runs a command in a running environment, straight through its runner's gateway. stdout " +
    "and stderr arrive as raw bytes on this process's stdout and stderr; stdin is forwarded " +
    "when it is not a terminal (or with --stdin). Exits with the command's exit code, 128+n " +
    'when signal n killed it, 124 when --timeout ended it. With --json, prints the result ' +
    '(output base64) instead of streaming. With --detach, the command runs on without this ' +
    'process (up to --timeout, 24 hours by default, 7 days at most): its process id is printed ' +
    'for `hangar env attach`, `env wait`, `env kill` and `env ps`.',
  spec: {
    positionals: [{ name: 'env', required: true, describe: 'environment id or name' }],
    rest: {
      name: 'command',
      describe: 'the program and its arguments (no shell unless you run one)',
    },
    flags: {
      ...apiFlags,
      ...breakGlassFlags,
      timeout: {
        type: 'duration',
        valueName: 'S',
        min: 0.001,
        max: 7 * 86400,
        describe:
          'kill the command after S seconds (also 90s, 15m, 2h); 1 day at most unless --detach',
      },
      detach: {
        type: 'boolean',
        describe: 'start the command on its own, print its process id and return',
      },
      cwd: { type: 'string', valueName: 'DIR', describe: 'working directory (default: workspace)' },
      env: {
        type: 'string',
        valueName: 'K=V',
        multiple: true,
        describe: 'set an environment variable for the command',
      },
      stdin: { type: 'boolean', describe: 'forward stdin even when it is a terminal' },
      'no-stdin': { type: 'boolean', describe: 'never forward stdin' },
      mask: {
        type: 'boolean',
        describe: "show the environment's secret values as *** in the output (also encoded)",
      },
    },
  },
  async run({ io, out }, { flags, positionals, rest }) {
    if (rest.length === 0) {
      throw new UsageError('missing the command to run, after --', { commandPath });
    }
    if (flags.stdin && flags['no-stdin']) {
      throw new UsageError('--stdin and --no-stdin contradict each other', { commandPath });
    }
    if (flags.detach && flags.stdin) {
      throw new UsageError('--detach takes no stdin: the command runs on without this process', {
        commandPath,
      });
    }
    if (!flags.detach && flags.timeout !== undefined && flags.timeout > maxAttachedTimeoutS) {
      throw new UsageError(
        `--timeout is at most ${maxAttachedTimeoutS} s (1 day) unless --detach; ` +
          'a longer command should run detached',
        { commandPath, fields: [{ field: 'timeout', message: 'must be at most 86400 s' }] },
      );
    }
    const env = envFrom(flags.env);
    const request: ExecRequest = { command: rest };
    if (flags.cwd !== undefined) request.cwd = flags.cwd;
    if (env) request.env = env;
    if (flags.mask) request.mask = true;
    if (flags.timeout !== undefined)
      request.timeoutMs = Math.max(1, Math.round(flags.timeout * 1000));
    const forwardStdin =
      !flags.detach && (flags.stdin || (!flags['no-stdin'] && io.stdin.isTTY !== true));

    const reason = breakGlassReason(flags['break-glass']);
    const { api } = await openSession(io, flags);
    const environment = await resolveEnvironment(api, positionals.env);
    if (environment.status.phase !== 'running') {
      throw new HangarError(
        'environment_not_running',
        `environment ${environment.name} is ${environment.status.phase}, not running; ` +
          `start it with \`hangar env start ${environment.name} --wait\``,
      );
    }
    const access = await requestAccess(api, environment.id, ['exec'], {
      breakGlassReason: reason,
    });
    if (flags.detach) return execDetached(out, access, request);
    const stdin = forwardStdin ? io.stdin : undefined;
    if (out.json) return execBuffered(out, access, request, stdin);
    const exit = await runExecStream({
      access,
      request,
      ...(stdin ? { stdin } : {}),
      stdout: io.stdout,
      stderr: io.stderr,
    });
    if (exit.timedOut) out.info(`hangar: the command timed out after ${flags.timeout ?? 0} s`);
    return exitCodeOf(exit);
  },
});
