import type { WebSocket } from 'ws';
import {
  HangarError,
  TerminalResizeSchema,
  TerminalStartSchema,
  validator,
  type AccessClaims,
  type TerminalStart,
} from '@hangar/api';
import type { AttachedProcess, EnvdClient, ProcessInfo } from '../providers/provider.js';
import type { StreamMasker } from '../secrets/masker.js';
import type { SessionHandle } from '../sessions/registry.js';
import type { GatewayDeps } from './deps.js';
import { labelsFor, ownProcess, processLabel, wantsMask } from './processes.js';
import { failSocket, keepAlive, messageBytes, sendJson } from './socket-support.js';
import { StreamOutput, type StreamLimits } from './stream-output.js';

const checkStart = validator(TerminalStartSchema, 'the terminal start message');
const checkResize = validator(TerminalResizeSchema, 'the terminal message');

/** The user's login shell from the environment's passwd, else bash, else sh; as a login shell. */
export const loginShell = [
  '/bin/sh',
  '-c',
  'shell=$(getent passwd "$(id -un)" 2>/dev/null | cut -d: -f7); ' +
    '[ -x "$shell" ] || shell=$(command -v bash || echo /bin/sh); exec "$shell" -l',
];

export interface TerminalLimits {
  stream: StreamLimits;
  /** A client that sends no start message within this is closed. */
  firstMessageMs: number;
  /** While output flows, the running byte offset is sent at most this often. */
  offsetEveryMs: number;
  keepaliveMs: number;
}

export interface TerminalCall {
  environmentId: string;
  claims: AccessClaims;
  requestId: string;
  sourceAddress: string;
}

const startHint =
  'send {"type":"open","cols":80,"rows":24} or {"type":"attach","processId":"…","fromOffset":0} first';

/**
 * One client of one terminal, from its first message to its close. The shell runs in envd with
 * a pseudo-terminal and outlives the connection for the runner's grace period, so the same
 * actor may attach again and get the output it missed from the offset it last saw.
 */
export class TerminalConnection {
  private envd: EnvdClient | undefined;
  private attached: AttachedProcess | undefined;
  private session: SessionHandle | undefined;
  private started = false;
  private closed = false;
  private ready = false;
  private readonly early: Array<{ bytes: Buffer; isBinary: boolean }> = [];
  private readonly heldOutput: Buffer[] = [];
  private nextOffset = 0;
  private offsetTimer: NodeJS.Timeout | undefined;
  private inputInFlight = 0;
  private readonly output: StreamOutput;
  private readonly abort = new AbortController();
  private firstTimer: NodeJS.Timeout | undefined;
  /** Set when the terminal was opened with `mask: true`: masks its output for every client. */
  private masker: StreamMasker | undefined;

  constructor(
    private readonly deps: GatewayDeps,
    private readonly limits: TerminalLimits,
    private readonly socket: WebSocket,
    private readonly call: TerminalCall,
  ) {
    this.output = new StreamOutput(socket, limits.stream, (reason) =>
      deps.logger.warn(
        { environmentId: call.environmentId, requestId: call.requestId, reason },
        'terminal client fell too far behind; cut off, its terminal keeps running',
      ),
    );
  }

  /** Starts serving the socket: the first message says what to open or attach to. */
  listen(): void {
    this.firstTimer = setTimeout(
      () => this.fail(new HangarError('invalid_request', `no start message arrived; ${startHint}`)),
      this.limits.firstMessageMs,
    );
    keepAlive(this.socket, this.limits.keepaliveMs);
    this.socket.on('message', (data, isBinary) => this.onMessage(messageBytes(data), isBinary));
    this.socket.on('close', () => this.onClose());
  }

  private onMessage(bytes: Buffer, isBinary: boolean): void {
    if (!this.started) {
      this.started = true;
      clearTimeout(this.firstTimer);
      void this.run(bytes, isBinary);
    } else if (!this.attached) {
      this.early.push({ bytes, isBinary });
    } else {
      this.handle(bytes, isBinary);
    }
  }

  private handle(bytes: Buffer, isBinary: boolean): void {
    if (isBinary) {
      this.input(bytes);
      return;
    }
    try {
      const resize = checkResize(parseJson(bytes));
      this.attached?.resize(resize.cols, resize.rows);
    } catch (error) {
      this.fail(error);
    }
  }

  private async run(first: Buffer, isBinary: boolean): Promise<void> {
    try {
      if (isBinary)
        throw new HangarError('invalid_request', `the first message is text: ${startHint}`);
      const start = checkStart(parseJson(first));
      this.envd = await this.deps.envd(this.call.environmentId);
      const envd = this.envd;
      const info = await this.processFor(envd, start);
      // A shell this request started is not left behind when its client is gone before it
      // learnt the shell's id, nor when the session cannot be audited.
      const abandon = async () => {
        if (start.type === 'open') await envd.signalProcess(info.id, 'SIGKILL').catch(() => {});
      };
      if (this.closed) return await abandon();
      this.session = await this.openSession(info, start).catch(async (error: unknown) => {
        await abandon();
        throw error;
      });
      this.deps.activity.touch(this.call.environmentId);
      await this.attach(envd, info, start);
    } catch (error) {
      this.fail(error);
    } finally {
      this.envd?.close();
    }
  }

  private async processFor(envd: EnvdClient, start: TerminalStart): Promise<ProcessInfo> {
    if (start.type === 'attach') {
      return ownProcess(envd, this.call.claims, start.processId, 'terminal');
    }
    const { environmentId, claims, requestId } = this.call;
    const cwd = this.deps.workspaceFolder(environmentId);
    await this.deps.logCommand({
      time: new Date().toISOString(),
      requestId,
      environmentId,
      actor: claims.act,
      kind: 'terminal',
      command: start.command ?? loginShell,
      cwd: cwd ?? null,
    });
    return envd.spawnProcess({
      command: start.command ?? loginShell,
      ...(cwd !== undefined ? { cwd } : {}),
      env: this.deps.remoteEnv(environmentId),
      pty: { cols: start.cols, rows: start.rows, term: start.term ?? 'xterm-256color' },
      unattachedGraceMs: this.deps.terminalGraceMs,
      labels: {
        ...labelsFor('terminal', claims, requestId),
        ...(start.mask ? { [processLabel.mask]: '1' } : {}),
      },
    });
  }

  private openSession(info: ProcessInfo, start: TerminalStart): Promise<SessionHandle> {
    const { environmentId, claims, requestId, sourceAddress } = this.call;
    return this.deps.sessions.open({
      kind: 'terminal',
      environmentId,
      actor: claims.act,
      grant: claims.jti,
      requestId,
      sourceAddress,
      details: { process: info.id, mode: start.type },
      close: (reason) => {
        const ended = new HangarError('forbidden', `the terminal session was ended: ${reason}`);
        this.fail(ended, 'denied');
        // Ending access ends the shell too, as a hung-up line does.
        void this.envd?.signalProcess(info.id, 'SIGHUP').catch(() => undefined);
      },
    });
  }

  private async attach(envd: EnvdClient, info: ProcessInfo, start: TerminalStart): Promise<void> {
    if (wantsMask(info)) this.masker = this.deps.maskerOf?.(this.call.environmentId).stream();
    const attached = await envd.attachProcess(info.id, {
      fromOffset: start.type === 'attach' ? start.fromOffset : 0,
      onOutput: (chunk, _stream, offset) => this.onOutput(chunk, offset),
      signal: this.abort.signal,
    });
    this.attached = attached;
    if (this.closed) {
      attached.detach();
      return;
    }
    if (start.type === 'attach' && start.cols !== undefined && start.rows !== undefined) {
      attached.resize(start.cols, start.rows);
    }
    sendJson(this.socket, {
      type: 'ready',
      processId: info.id,
      replayedFrom: attached.replayedFrom,
    });
    this.ready = true;
    for (const chunk of this.heldOutput.splice(0)) void this.output.sendBytes(chunk);
    this.sendOffset();
    for (const early of this.early.splice(0)) this.handle(early.bytes, early.isBinary);
    const final = await attached.done;
    if (!final || this.closed) {
      await this.session?.end('success', 'the client detached');
      return;
    }
    const rest = this.masker?.end();
    if (rest?.length) await this.output.sendBytes(rest);
    this.sendOffset();
    sendJson(this.socket, {
      type: 'exit',
      exitCode: final.exitCode,
      signal: final.signal,
      timedOut: final.timedOut,
    });
    if (this.socket.readyState === this.socket.OPEN) this.socket.close(1000);
    await this.session?.end('success', 'the terminal exited');
  }

  private onOutput(raw: Buffer, offset: number): void | Promise<void> {
    this.session?.addBytesOut(raw.length);
    this.nextOffset = offset + raw.length;
    // Offsets stay the process's own, so a client reattaches where it left off either way.
    const chunk = this.masker ? this.masker.push(raw) : raw;
    if (chunk.length === 0) return;
    if (!this.ready) {
      this.heldOutput.push(chunk);
      return;
    }
    this.offsetTimer ??= setTimeout(() => this.sendOffset(), this.limits.offsetEveryMs);
    return this.output.sendBytes(chunk);
  }

  /** Tells the client the offset after the last byte sent, for a later reattach. */
  private sendOffset(): void {
    clearTimeout(this.offsetTimer);
    this.offsetTimer = undefined;
    sendJson(this.socket, { type: 'offset', offset: this.nextOffset });
  }

  private input(bytes: Buffer): void {
    const attached = this.attached;
    if (!attached) return;
    this.session?.addBytesIn(bytes.length);
    this.deps.activity.touch(this.call.environmentId);
    const highWater = this.limits.stream.stdinHighWaterBytes;
    this.inputInFlight += bytes.length;
    if (this.inputInFlight > highWater) this.socket.pause();
    attached.write(bytes).then(
      () => {
        this.inputInFlight -= bytes.length;
        if (this.inputInFlight <= highWater / 2) this.socket.resume();
      },
      (error: unknown) => this.fail(error),
    );
  }

  private fail(error: unknown, outcome: 'failure' | 'denied' = 'failure'): void {
    failSocket(this.socket, error, {
      requestId: this.call.requestId,
      logger: this.deps.logger,
      what: 'the terminal failed',
    });
    void this.session?.end(outcome, error instanceof Error ? error.message : String(error));
    this.onClose();
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.firstTimer);
    clearTimeout(this.offsetTimer);
    this.attached?.detach();
    this.abort.abort();
    if (this.socket.readyState === this.socket.OPEN) this.socket.close(1000);
    void this.session?.end('success', 'the client went away');
  }
}

function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new HangarError('invalid_request', 'a text message must be JSON');
  }
}
