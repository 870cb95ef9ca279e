import type { Readable, Writable } from 'node:stream';
import WebSocket from 'ws';
import { HangarError } from '@hangar/api/errors.js';
import {
  errorFromFrame,
  exitFromFrame,
  frameBytes,
  onRefusedUpgrade,
  openGatewaySocket,
  type GatewayAccess,
} from './gateway.js';

export interface TerminalSize {
  cols: number;
  rows: number;
}

export interface TerminalExit {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
}

export interface TerminalOptions {
  /** A grant with `terminal`: asked for before every connection (it may have expired). */
  access: () => Promise<GatewayAccess>;
  /** What to run instead of the login shell. */
  command?: string[];
  /** Attach to this terminal of yours instead of opening one. */
  processId?: string;
  stdin: Readable;
  stdout: Writable;
  size: () => TerminalSize;
  /** Registers the listener for window size changes (SIGWINCH); returns how to stop. */
  onResize: (listener: () => void) => () => void;
  /** Progress for a person (reconnecting, reattached), for stderr. */
  notice: (message: string) => void;
  /** Reconnection attempts after a drop before giving up; 8 when absent. */
  maxReconnects?: number;
  /** The first delay between attempts, doubled each time up to 5 s; 250 ms when absent. */
  retryDelayMs?: number;
}

interface Control {
  type?: unknown;
  processId?: unknown;
  replayedFrom?: unknown;
  offset?: unknown;
  exitCode?: unknown;
  signal?: unknown;
  timedOut?: unknown;
  code?: unknown;
  message?: unknown;
}

type Round =
  | { kind: 'exit'; exit: TerminalExit }
  | { kind: 'dropped'; reason: string; wasReady: boolean }
  | { kind: 'failed'; error: HangarError };

/** Input typed while reconnecting is kept up to this much, then dropped. */
const maxHeldInputBytes = 64 * 1024;

/**
 * A terminal in an environment over its runner's gateway. Output is written to `stdout` as it
 * comes; the offset after the last byte written is kept, so after a dropped connection the
 * client attaches again from there and gets what it missed (within the runner's grace period
 * and its kept output). Resolves with the shell's exit.
 */
export class TerminalClient {
  private processId: string | undefined;
  private offset = 0;
  private socket: WebSocket | undefined;
  private held: Buffer[] = [];
  private heldBytes = 0;

  constructor(private readonly options: TerminalOptions) {
    this.processId = options.processId;
  }

  async run(): Promise<TerminalExit> {
    const { stdin } = this.options;
    const onInput = (chunk: Buffer | string) =>
      this.input(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    // The end of piped input is end-of-file at the terminal: ^D, as typing it would be. Known
    // gap: a shell that switches its terminal to raw mode after the ^D arrived (bash starting
    // up) reads it as a plain byte, so `cmd | hangar env terminal` should end with `exit`.
    const onEnd = () => this.input(Buffer.from([0x04]));
    stdin.on('data', onInput);
    stdin.once('end', onEnd);
    stdin.resume();
    const stopResize = this.options.onResize(() => this.resize());
    try {
      return await this.loop();
    } finally {
      stopResize();
      stdin.off('data', onInput);
      stdin.off('end', onEnd);
      stdin.pause();
    }
  }

  private async loop(): Promise<TerminalExit> {
    const maxReconnects = this.options.maxReconnects ?? 8;
    let failures = 0;
    for (;;) {
      const round = await this.connectOnce();
      if (round.kind === 'exit') return round.exit;
      if (round.kind === 'failed') throw round.error;
      if (round.wasReady) failures = 0;
      if (this.processId === undefined || failures >= maxReconnects) {
        throw new HangarError(
          'runner_unavailable',
          `the terminal connection dropped (${round.reason}) and could not be restored` +
            (this.processId
              ? `; \`hangar env terminal --attach ${this.processId}\` tries again`
              : ''),
        );
      }
      const delayMs = Math.min(5000, (this.options.retryDelayMs ?? 250) * 2 ** failures);
      failures += 1;
      this.options.notice(`hangar: connection lost (${round.reason}); reattaching…`);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }

  /** One connection, from the start message to its end. */
  private async connectOnce(): Promise<Round> {
    let access: GatewayAccess;
    try {
      access = await this.options.access();
    } catch (error) {
      if (error instanceof HangarError && error.details?.unreachable !== true) {
        return { kind: 'failed', error };
      }
      return { kind: 'dropped', reason: 'the control plane is unreachable', wasReady: false };
    }
    const socket = openGatewaySocket(
      access,
      `/v1/environments/${encodeURIComponent(access.environmentId)}/terminal`,
    );
    return new Promise<Round>((resolve) => {
      let settled = false;
      let ready = false;
      const settle = (round: Round) => {
        if (settled) return;
        settled = true;
        this.socket = undefined;
        if (socket.readyState === WebSocket.OPEN) socket.close(1000);
        else socket.terminate();
        resolve(round);
      };
      onRefusedUpgrade(socket, access, (error, status) => {
        if (status >= 500) settle({ kind: 'dropped', reason: error.message, wasReady: false });
        else settle({ kind: 'failed', error });
      });
      socket.on('open', () => socket.send(JSON.stringify(this.startMessage())));
      socket.on('message', (data, isBinary) => {
        const bytes = frameBytes(data);
        if (isBinary) {
          this.offset += bytes.length;
          this.options.stdout.write(bytes);
          return;
        }
        const message = JSON.parse(bytes.toString('utf8')) as Control;
        if (message.type === 'ready') {
          const reattached = this.processId !== undefined;
          this.processId = typeof message.processId === 'string' ? message.processId : undefined;
          if (typeof message.replayedFrom === 'number') this.offset = message.replayedFrom;
          ready = true;
          this.socket = socket;
          if (reattached) this.options.notice('hangar: reattached');
          this.resize();
          this.flushHeld();
        } else if (message.type === 'offset' && typeof message.offset === 'number') {
          this.offset = Math.max(this.offset, message.offset);
        } else if (message.type === 'exit') {
          settle({ kind: 'exit', exit: exitFromFrame(message) });
        } else if (message.type === 'error') {
          settle({ kind: 'failed', error: errorFromFrame(message, 'terminal failed') });
        }
      });
      socket.on('close', (code) =>
        settle({ kind: 'dropped', reason: `closed with ${code}`, wasReady: ready }),
      );
      socket.on('error', (error) =>
        settle({ kind: 'dropped', reason: error.message, wasReady: ready }),
      );
    });
  }

  private startMessage(): Record<string, unknown> {
    const size = this.options.size();
    if (this.processId !== undefined) {
      return { type: 'attach', processId: this.processId, fromOffset: this.offset, ...size };
    }
    return {
      type: 'open',
      ...size,
      ...(this.options.command ? { command: this.options.command } : {}),
    };
  }

  private input(bytes: Buffer): void {
    const socket = this.socket;
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(bytes);
      return;
    }
    if (this.heldBytes + bytes.length > maxHeldInputBytes) return;
    this.held.push(bytes);
    this.heldBytes += bytes.length;
  }

  private flushHeld(): void {
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    for (const bytes of held) this.input(bytes);
  }

  private resize(): void {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    socket.send(JSON.stringify({ type: 'resize', ...this.options.size() }));
  }
}
