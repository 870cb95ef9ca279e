import { constants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import WebSocket from 'ws';
import { HangarError } from '@hangar/api/errors.js';
import {
  errorFromFrame,
  exitFromFrame,
  frameBytes,
  onRefusedUpgrade,
  socketUrl,
  type GatewayAccess,
} from './gateway.js';

/** Frame tags of the gateway's exec stream: the first byte of every binary frame. */
export const streamTag = { stdin: 0, stdout: 1, stderr: 2 } as const;

export interface ExecRequest {
  command: string[];
  cwd?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
  /** The environment's secret values come back as `***`. */
  mask?: boolean;
}

export interface ExecExit {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  durationMs: number;
}

export interface ExecStreamOptions {
  access: GatewayAccess;
  request: ExecRequest;
  /** Forwarded as stdin frames, then ended; without it the command's stdin is empty. */
  stdin?: Readable;
  stdout: Writable;
  stderr: Writable;
}

/** The exit code the CLI passes on: the command's own, 124 on timeout, 128+n for signal n. */
export function exitCodeOf(exit: Pick<ExecExit, 'exitCode' | 'signal' | 'timedOut'>): number {
  if (exit.timedOut) return 124;
  if (exit.signal) {
    const number = (constants.signals as Record<string, number | undefined>)[exit.signal];
    return 128 + (number ?? 0);
  }
  return exit.exitCode ?? 1;
}

export function streamUrl(access: GatewayAccess): string {
  return socketUrl(
    access,
    `/v1/environments/${encodeURIComponent(access.environmentId)}/exec/stream`,
  );
}

interface ControlFrame {
  type?: unknown;
  exitCode?: unknown;
  signal?: unknown;
  timedOut?: unknown;
  durationMs?: unknown;
  code?: unknown;
  message?: unknown;
  requestId?: unknown;
}

function toExit(frame: ControlFrame): ExecExit {
  return {
    ...exitFromFrame(frame),
    durationMs: typeof frame.durationMs === 'number' ? frame.durationMs : 0,
  };
}

/**
 * Runs one command over the gateway's exec WebSocket. The first frame is the JSON start
 * request; stdin goes as binary frames tagged 0 and ends with a `stdin-end` text frame; stdout
 * and stderr come back as frames tagged 1 and 2 and are written as raw bytes. When a writer
 * pushes back, the socket is paused until it drains. Resolves with the exit frame.
 */
export function runExecStream(options: ExecStreamOptions): Promise<ExecExit> {
  const { access, request, stdin } = options;
  const service = `runner gateway of ${access.runnerId}`;
  const socket = new WebSocket(streamUrl(access), {
    headers: { authorization: `Bearer ${access.token}` },
  });
  return new Promise<ExecExit>((resolve, reject) => {
    let settled = false;
    let draining = 0;
    const stopStdin = () => {
      if (!stdin) return;
      stdin.off('data', onStdinData);
      stdin.off('end', onStdinEnd);
      stdin.off('error', onStdinError);
      stdin.pause();
    };
    const finish = (outcome: { exit: ExecExit } | { error: HangarError }) => {
      if (settled) return;
      settled = true;
      stopStdin();
      if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) {
        if ('exit' in outcome) socket.close(1000);
        else socket.terminate();
      }
      if ('exit' in outcome) resolve(outcome.exit);
      else reject(outcome.error);
    };
    const onStdinData = (chunk: Buffer | string) => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      stdin?.pause();
      socket.send(Buffer.concat([Buffer.from([streamTag.stdin]), bytes]), (error) => {
        if (!error && !settled) stdin?.resume();
      });
    };
    const onStdinEnd = () => {
      if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: 'stdin-end' }));
    };
    const onStdinError = () => onStdinEnd();
    const write = (target: Writable, chunk: Buffer) => {
      if (target.write(chunk)) return;
      draining += 1;
      socket.pause();
      target.once('drain', () => {
        draining -= 1;
        if (draining === 0) socket.resume();
      });
    };

    onRefusedUpgrade(socket, access, (error) => finish({ error }));
    socket.on('open', () => {
      socket.send(JSON.stringify({ ...request, stdin: stdin !== undefined }));
      if (!stdin) return;
      stdin.on('data', onStdinData);
      stdin.once('end', onStdinEnd);
      stdin.once('error', onStdinError);
      stdin.resume();
    });
    socket.on('message', (data, isBinary) => {
      const bytes = frameBytes(data);
      if (isBinary) {
        if (bytes[0] === streamTag.stdout) write(options.stdout, bytes.subarray(1));
        else if (bytes[0] === streamTag.stderr) write(options.stderr, bytes.subarray(1));
        return;
      }
      let frame: ControlFrame;
      try {
        frame = JSON.parse(bytes.toString('utf8')) as ControlFrame;
      } catch {
        return;
      }
      if (frame.type === 'exit') finish({ exit: toExit(frame) });
      if (frame.type === 'error') {
        const details = typeof frame.requestId === 'string' ? { requestId: frame.requestId } : {};
        finish({ error: errorFromFrame(frame, 'the command could not run', details) });
      }
    });
    socket.on('close', (code, reason) => {
      const why = reason.toString() || 'no reason given';
      finish({
        error: new HangarError(
          'runner_unavailable',
          `the ${service} closed the exec stream (${code}: ${why}) before the command finished; ` +
            'the command may still have run: check `hangar audit list --action environment.exec`',
        ),
      });
    });
    socket.on('error', (error) => {
      finish({
        error: new HangarError(
          'runner_unavailable',
          `cannot reach the ${service} at ${access.gatewayUrl} (${error.message}); ` +
            `is the runner ${access.runnerId} running and its gateway reachable from here?`,
          { cause: error, details: { unreachable: true } },
        ),
      });
    });
  });
}
