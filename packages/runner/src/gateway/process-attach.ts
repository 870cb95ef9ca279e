import type { WebSocket } from 'ws';
import { HangarError } from '@hangar/api';
import type { AttachedProcess, EnvdClient, ProcessStream } from '../providers/provider.js';
import type { SessionHandle } from '../sessions/registry.js';
import type { GatewayDeps } from './deps.js';
import { streamTag } from './exec-routes.js';
import type { ProcessCall } from './process-service.js';
import { ownProcess, wantsMask } from './processes.js';
import { failSocket, keepAlive, messageBytes, sendJson } from './socket-support.js';
import { StreamOutput, type StreamLimits } from './stream-output.js';

export interface AttachLimits {
  stream: StreamLimits;
  keepaliveMs: number;
}

const tagOf: Record<ProcessStream, number> = {
  stdout: streamTag.stdout,
  stderr: streamTag.stderr,
  pty: streamTag.stdout,
};

/**
 * One client attached to a durable command: `{type:'ready', processId, replayedFrom}`, then the
 * output replayed from `fromOffset` and live, in frames tagged like the exec stream's (1 stdout,
 * 2 stderr), and `{type:'exit', ...}` at the end. Frames tagged 0 go to the command's stdin,
 * `{type:'stdin-end'}` closes it. Closing the socket leaves the command running.
 */
export async function attachToProcess(
  deps: GatewayDeps,
  limits: AttachLimits,
  socket: WebSocket,
  call: ProcessCall & { processId: string; fromOffset?: number },
): Promise<void> {
  keepAlive(socket, limits.keepaliveMs);
  let attached: AttachedProcess | undefined;
  let session: SessionHandle | undefined;
  let envd: EnvdClient | undefined;
  let ready = false;
  const held: Array<{ tag: number; chunk: Buffer }> = [];
  const early: Array<{ bytes: Buffer; isBinary: boolean }> = [];
  const output = new StreamOutput(socket, limits.stream, (reason) =>
    deps.logger.warn(
      { environmentId: call.environmentId, requestId: call.requestId, reason },
      'process client fell too far behind; cut off, its command keeps running',
    ),
  );
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const handle = (bytes: Buffer, isBinary: boolean): void => {
    if (!attached) {
      early.push({ bytes, isBinary });
    } else if (isBinary && bytes[0] === streamTag.stdin) {
      session?.addBytesIn(bytes.length - 1);
      deps.activity.touch(call.environmentId);
      attached.write(bytes.subarray(1)).catch((error: unknown) => fail(error));
    } else if (!isBinary && bytes.toString('utf8').includes('"stdin-end"')) {
      attached.closeInput();
    }
  };
  const fail = (error: unknown): void => {
    failSocket(socket, error, {
      requestId: call.requestId,
      logger: deps.logger,
      what: 'attaching to the process failed',
    });
    void session?.end('failure', error instanceof Error ? error.message : String(error));
  };
  socket.on('message', (data, isBinary) => handle(messageBytes(data), isBinary));
  void closed.then(() => {
    attached?.detach();
    void session?.end('success', 'the client detached');
  });

  try {
    envd = await deps.envd(call.environmentId);
    const info = await ownProcess(envd, call.claims, call.processId);
    session = await deps.sessions.open({
      kind: 'attach',
      environmentId: call.environmentId,
      actor: call.claims.act,
      grant: call.claims.jti,
      requestId: call.requestId,
      sourceAddress: call.sourceAddress,
      details: { process: info.id },
      close: (reason) => {
        failSocket(socket, new HangarError('forbidden', `the session was ended: ${reason}`), {
          requestId: call.requestId,
          logger: deps.logger,
          what: 'attach',
        });
        void session?.end('denied', reason);
      },
    });
    const masker = wantsMask(info) ? deps.maskerOf?.(call.environmentId) : undefined;
    const maskers = masker && {
      stdout: masker.stream(),
      stderr: masker.stream(),
      pty: masker.stream(),
    };
    attached = await envd.attachProcess(info.id, {
      ...(call.fromOffset !== undefined ? { fromOffset: call.fromOffset } : {}),
      onOutput: (raw, stream) => {
        session?.addBytesOut(raw.length);
        const chunk = maskers ? maskers[stream].push(raw) : raw;
        const tag = tagOf[stream];
        if (chunk.length === 0) return;
        if (!ready) held.push({ tag, chunk });
        else return output.send(tag, chunk);
      },
    });
    if (socket.readyState !== socket.OPEN) {
      attached.detach();
      await session.end('success', 'the client detached');
      return;
    }
    sendJson(socket, { type: 'ready', processId: info.id, replayedFrom: attached.replayedFrom });
    ready = true;
    for (const { tag, chunk } of held.splice(0)) void output.send(tag, chunk);
    for (const message of early.splice(0)) handle(message.bytes, message.isBinary);
    const final = await attached.done;
    if (!final) return;
    for (const [stream, pending] of Object.entries(maskers ?? {})) {
      const rest = pending.end();
      if (rest.length) await output.send(tagOf[stream as keyof typeof tagOf], rest);
    }
    sendJson(socket, {
      type: 'exit',
      exitCode: final.exitCode,
      signal: final.signal,
      timedOut: final.timedOut,
      outputBytes: final.outputBytes,
    });
    if (socket.readyState === socket.OPEN) socket.close(1000);
    await session.end('success', 'the process exited');
  } catch (error) {
    fail(error);
  } finally {
    envd?.close();
  }
}
