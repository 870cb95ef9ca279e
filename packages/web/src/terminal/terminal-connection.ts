import type { Result } from '../client.js';
import type { TerminalResize, TerminalStart } from '../gateway.js';

/** What the page needs of a WebSocket; the browser's own fits, and so does a test's. */
export interface TerminalSocket {
  binaryType: string;
  readonly readyState: number;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'error', listener: () => void): void;
  addEventListener(type: 'close', listener: (event: { code: number }) => void): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
}

/** Where to connect: a gateway WebSocket URL and the subprotocols carrying a fresh grant. */
export interface SocketTarget {
  url: string;
  protocols: string[];
}

export interface TerminalSize {
  cols: number;
  rows: number;
}

export type TerminalState =
  | { kind: 'connecting' }
  | { kind: 'ready'; processId: string; reattached: boolean; lostBytes: number }
  | { kind: 'reconnecting'; reason: string; attempt: number }
  | { kind: 'exited'; exitCode: number | null; signal: string | null }
  | { kind: 'failed'; message: string; processId: string | null }
  | { kind: 'closed' };

export interface TerminalConnectionOptions {
  /** Asks for a fresh grant with `terminal`, before every connection (the last may be stale). */
  target: () => Promise<Result<SocketTarget>>;
  /** Opens the socket; the browser's WebSocket unless a test gives its own. */
  openSocket?: (target: SocketTarget) => TerminalSocket;
  size: () => TerminalSize;
  onOutput: (bytes: Uint8Array) => void;
  onState: (state: TerminalState) => void;
  /** Attach to this shell instead of opening one. */
  processId?: string;
  /** Attempts after a drop before giving up; 8 when absent. */
  maxReconnects?: number;
  /** The first wait between attempts, doubled each time up to 5 s; 250 ms when absent. */
  retryDelayMs?: number;
}

/** Input typed while the connection is down is kept up to this much, then dropped. */
const maxHeldInputBytes = 64 * 1024;
const maxRetryDelayMs = 5000;
const openState = 1;

type Round =
  | { kind: 'exit'; exitCode: number | null; signal: string | null }
  | { kind: 'dropped'; reason: string; wasReady: boolean }
  | { kind: 'failed'; message: string };

interface Control {
  type?: unknown;
  processId?: unknown;
  replayedFrom?: unknown;
  offset?: unknown;
  exitCode?: unknown;
  signal?: unknown;
  message?: unknown;
}

function browserSocket(target: SocketTarget): TerminalSocket {
  return new WebSocket(target.url, target.protocols);
}

/**
 * One shell in an environment over its runner's terminal WebSocket. Output goes to `onOutput`
 * as it comes, and the offset after the last byte received is kept, so that after a dropped
 * connection it attaches again with a fresh grant from that offset and the runner replays what
 * was missed (within the output the runner keeps); nothing is shown twice.
 */
export class TerminalConnection {
  private processId: string | undefined;
  private offset = 0;
  /** The socket of the connection under way, from its opening. */
  private current: TerminalSocket | undefined;
  /** The same socket once the runner said it is ready: where input goes. */
  private socket: TerminalSocket | undefined;
  private held: Uint8Array[] = [];
  private heldBytes = 0;
  private stopped = false;
  private wake: (() => void) | undefined;

  constructor(private readonly options: TerminalConnectionOptions) {
    this.processId = options.processId;
  }

  /** Connects, and keeps reconnecting after drops until the shell exits or `close` is called. */
  async run(): Promise<void> {
    const maxReconnects = this.options.maxReconnects ?? 8;
    let failures = 0;
    this.options.onState({ kind: 'connecting' });
    while (!this.stopped) {
      const round = await this.connectOnce();
      if (this.stopped) break;
      if (round.kind === 'exit') {
        this.options.onState({ kind: 'exited', exitCode: round.exitCode, signal: round.signal });
        return;
      }
      if (round.kind === 'failed') {
        this.fail(round.message);
        return;
      }
      if (round.wasReady) failures = 0;
      if (this.processId === undefined || failures >= maxReconnects) {
        this.fail(`the connection dropped (${round.reason}) and could not be restored`);
        return;
      }
      failures += 1;
      this.options.onState({ kind: 'reconnecting', reason: round.reason, attempt: failures });
      const firstDelayMs = this.options.retryDelayMs ?? 250;
      await this.pause(Math.min(maxRetryDelayMs, firstDelayMs * 2 ** (failures - 1)));
    }
    this.options.onState({ kind: 'closed' });
  }

  /** Keys typed: sent at once, or held while reconnecting and sent after the reattach. */
  input(bytes: Uint8Array): void {
    const socket = this.socket;
    if (socket && socket.readyState === openState) {
      socket.send(bytes);
      return;
    }
    if (this.heldBytes + bytes.length > maxHeldInputBytes) return;
    this.held.push(bytes);
    this.heldBytes += bytes.length;
  }

  /** Tells the runner the terminal's new size. */
  resize(): void {
    const socket = this.socket;
    if (!socket || socket.readyState !== openState) return;
    const message: TerminalResize = { type: 'resize', ...this.options.size() };
    socket.send(JSON.stringify(message));
  }

  /** Skips the wait before the next attempt, e.g. when the browser says it is online again. */
  retryNow(): void {
    this.wake?.();
  }

  /** Ends this connection; the shell keeps running for the runner's grace period. */
  close(): void {
    this.stopped = true;
    this.wake?.();
    this.current?.close(1000, 'closed by the page');
  }

  private fail(message: string): void {
    this.options.onState({ kind: 'failed', message, processId: this.processId ?? null });
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  private startMessage(): TerminalStart {
    const size = this.options.size();
    if (this.processId !== undefined) {
      return { type: 'attach', processId: this.processId, fromOffset: this.offset, ...size };
    }
    return { type: 'open', ...size };
  }

  /** One connection, from asking for a grant to the socket's end. */
  private async connectOnce(): Promise<Round> {
    const target = await this.options.target();
    if (!target.ok) {
      // Unreachable or failing on its side: worth another try. A refusal is final.
      if (target.status === 0 || target.status >= 500) {
        return { kind: 'dropped', reason: target.message, wasReady: false };
      }
      return { kind: 'failed', message: target.message };
    }
    if (this.stopped) return { kind: 'dropped', reason: 'closed', wasReady: false };
    const socket = (this.options.openSocket ?? browserSocket)(target.data);
    socket.binaryType = 'arraybuffer';
    this.current = socket;
    return new Promise<Round>((resolve) => {
      let settled = false;
      let ready = false;
      const settle = (round: Round) => {
        if (settled) return;
        settled = true;
        if (this.socket === socket) this.socket = undefined;
        if (this.current === socket) this.current = undefined;
        if (socket.readyState === openState) socket.close(1000);
        resolve(round);
      };
      socket.addEventListener('open', () => socket.send(JSON.stringify(this.startMessage())));
      socket.addEventListener('message', ({ data }) => {
        if (typeof data !== 'string') {
          const bytes = new Uint8Array(data as ArrayBuffer);
          this.offset += bytes.length;
          this.options.onOutput(bytes);
          return;
        }
        const round = this.onControl(parseControl(data), socket);
        if (round === 'ready') ready = true;
        else if (round) settle(round);
      });
      socket.addEventListener('close', ({ code }) =>
        settle({ kind: 'dropped', reason: `closed with code ${code}`, wasReady: ready }),
      );
      socket.addEventListener('error', () =>
        settle({ kind: 'dropped', reason: 'the connection failed', wasReady: ready }),
      );
    });
  }

  private onControl(message: Control, socket: TerminalSocket): Round | 'ready' | undefined {
    if (message.type === 'ready' && typeof message.processId === 'string') {
      const reattached = this.processId !== undefined;
      this.processId = message.processId;
      // The runner keeps a bounded tail of output: what came before it is gone.
      const from = typeof message.replayedFrom === 'number' ? message.replayedFrom : this.offset;
      const lostBytes = Math.max(0, from - this.offset);
      this.offset = from;
      this.socket = socket;
      this.options.onState({ kind: 'ready', processId: message.processId, reattached, lostBytes });
      this.resize();
      this.flushHeld();
      return 'ready';
    }
    if (message.type === 'offset' && typeof message.offset === 'number') {
      this.offset = Math.max(this.offset, message.offset);
      return undefined;
    }
    if (message.type === 'exit') {
      return {
        kind: 'exit',
        exitCode: typeof message.exitCode === 'number' ? message.exitCode : null,
        signal: typeof message.signal === 'string' ? message.signal : null,
      };
    }
    if (message.type === 'error') {
      const text = typeof message.message === 'string' ? message.message : 'the terminal failed';
      return { kind: 'failed', message: text };
    }
    return undefined;
  }

  private flushHeld(): void {
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    for (const bytes of held) this.input(bytes);
  }
}

function parseControl(text: string): Control {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? parsed : {};
  } catch {
    return {};
  }
}
