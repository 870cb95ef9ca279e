import type { Readable, Writable } from 'node:stream';
import WebSocket from 'ws';
import type { ProcessDetail, ProcessInfoBody } from '@hangar/api';
import { HangarError } from '@hangar/api/errors.js';
import type { PositionalSpec } from './args.js';
import { environmentPath } from './env-access.js';
import { UsageError } from './errors.js';
import { streamTag, type ExecRequest } from './exec-stream.js';
import {
  errorFromFrame,
  exitFromFrame,
  frameBytes,
  gatewayClient,
  onRefusedUpgrade,
  openGatewaySocket,
  type GatewayAccess,
} from './gateway.js';

/** The longest one wait request holds on the gateway; longer waits ask again. */
const waitSliceS = 60;

function processPath(access: GatewayAccess, id?: string, rest = ''): string {
  const tail = id === undefined ? '' : `/${encodeURIComponent(id)}${rest}`;
  return environmentPath(access, `/processes${tail}`);
}

export function startDetached(
  access: GatewayAccess,
  request: ExecRequest,
): Promise<ProcessInfoBody> {
  return gatewayClient(access).post<ProcessInfoBody>(processPath(access), request);
}

export async function listOwnProcesses(access: GatewayAccess): Promise<ProcessInfoBody[]> {
  const body = await gatewayClient(access).get<{ processes: ProcessInfoBody[] }>(
    processPath(access),
  );
  return body.processes;
}

export function getProcess(
  access: GatewayAccess,
  id: string,
  tailBytes?: number,
): Promise<ProcessDetail> {
  return gatewayClient(access).get<ProcessDetail>(processPath(access, id), { tailBytes });
}

export function signalProcess(
  access: GatewayAccess,
  id: string,
  signal: string,
): Promise<ProcessInfoBody> {
  return gatewayClient(access).post<ProcessInfoBody>(processPath(access, id, '/signal'), {
    signal,
  });
}

/**
 * Waits for the process to exit, asking the gateway again every minute, for at most
 * `timeoutS` (for ever when absent). Resolves with its last state: `running` if time ran out.
 */
export async function waitForExit(
  access: () => Promise<GatewayAccess>,
  id: string,
  timeoutS?: number,
): Promise<ProcessInfoBody> {
  const deadline = timeoutS === undefined ? Infinity : Date.now() + timeoutS * 1000;
  for (;;) {
    const left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
    const slice = Math.min(waitSliceS, left);
    const grant = await access();
    const info = await gatewayClient(grant).get<ProcessInfoBody>(processPath(grant, id, '/wait'), {
      timeoutS: slice,
    });
    if (info.state === 'exited' || Date.now() >= deadline) return info;
  }
}

export interface AttachExit {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
}

interface ControlFrame {
  type?: unknown;
  exitCode?: unknown;
  signal?: unknown;
  timedOut?: unknown;
  code?: unknown;
  message?: unknown;
}

/**
 * Follows a durable command: its kept output from `fromOffset` (only new output when absent),
 * then live, written as raw bytes to stdout and stderr; `stdin`, when given, goes to the
 * command and is ended at its end. Resolves with the exit; a dropped connection rejects, and
 * the command keeps running.
 */
export function attachToProcess(options: {
  access: GatewayAccess;
  id: string;
  fromOffset?: number;
  stdin?: Readable;
  stdout: Writable;
  stderr: Writable;
}): Promise<AttachExit> {
  const { access, stdin } = options;
  const service = `runner gateway of ${access.runnerId}`;
  const query = options.fromOffset !== undefined ? `?fromOffset=${options.fromOffset}` : '';
  const socket = openGatewaySocket(access, `${processPath(access, options.id, '/attach')}${query}`);
  return new Promise<AttachExit>((resolve, reject) => {
    let settled = false;
    const finish = (outcome: { exit: AttachExit } | { error: HangarError }) => {
      if (settled) return;
      settled = true;
      stdin?.pause();
      if (socket.readyState === WebSocket.OPEN) socket.close(1000);
      if ('exit' in outcome) resolve(outcome.exit);
      else reject(outcome.error);
    };
    onRefusedUpgrade(socket, access, (error) => finish({ error }));
    socket.on('open', () => {
      if (!stdin) return;
      stdin.on('data', (chunk: Buffer | string) => {
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        socket.send(Buffer.concat([Buffer.from([streamTag.stdin]), bytes]));
      });
      stdin.once('end', () => socket.send(JSON.stringify({ type: 'stdin-end' })));
      stdin.resume();
    });
    socket.on('message', (data, isBinary) => {
      const bytes = frameBytes(data);
      if (isBinary) {
        const target = bytes[0] === streamTag.stderr ? options.stderr : options.stdout;
        if (!target.write(bytes.subarray(1))) {
          socket.pause();
          target.once('drain', () => socket.resume());
        }
        return;
      }
      const frame = JSON.parse(bytes.toString('utf8')) as ControlFrame;
      if (frame.type === 'exit') {
        finish({ exit: exitFromFrame(frame) });
      } else if (frame.type === 'error') {
        finish({ error: errorFromFrame(frame, 'attach failed') });
      }
    });
    socket.on('close', () =>
      finish({
        error: new HangarError(
          'runner_unavailable',
          `the ${service} closed the connection before the process ended; it keeps running: ` +
            `\`hangar env attach\` again to follow it`,
        ),
      }),
    );
    socket.on('error', (error) =>
      finish({
        error: new HangarError(
          'runner_unavailable',
          `cannot reach the ${service} at ${access.gatewayUrl} (${error.message})`,
          { cause: error },
        ),
      }),
    );
  });
}

/** The `<env> <process>` positionals of the commands that act on one of your processes. */
export const processPositionals = [
  { name: 'env', required: true, describe: 'environment id or name' },
  { name: 'process', required: true, describe: 'process id, from `hangar env ps`' },
] as const satisfies readonly PositionalSpec[];

const processIdPattern = /^[A-Za-z0-9_.-]{1,64}$/;

/** A process id as given on the command line; a usage error naming it otherwise. */
export function checkProcessId(value: string, commandPath: string): string {
  if (processIdPattern.test(value)) return value;
  throw new UsageError(`${value} is not a process id; \`hangar env ps <env>\` lists yours`, {
    commandPath,
    fields: [{ field: 'process', message: 'must be a process id such as prc_…' }],
  });
}
