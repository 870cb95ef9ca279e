import { Readable, Writable } from 'node:stream';
import type { Io } from '../io.js';
import { main } from '../main.js';

/** A Writable that keeps every byte written to it. */
export class Sink extends Writable {
  private readonly chunks: Buffer[] = [];
  isTTY = false;

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void) {
    this.chunks.push(Buffer.from(chunk));
    done();
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }

  text(): string {
    return this.bytes().toString('utf8');
  }
}

export interface CapturedIo extends Io {
  readonly stdout: Sink;
  readonly stderr: Sink;
  /** Makes `waitForStop` resolve, as SIGINT would. */
  stop(signal?: string): void;
}

export interface CaptureOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  homeDir?: string;
  /** The bytes stdin holds; it ends after them. Empty when absent. */
  stdin?: Buffer | string | Readable;
  stdinIsTTY?: boolean;
}

/** An Io for running `main` in-process: output captured, environment and stdin chosen. */
export function captureIo(options: CaptureOptions = {}): CapturedIo {
  const stdin =
    options.stdin instanceof Readable
      ? options.stdin
      : Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]);
  Object.assign(stdin, { isTTY: options.stdinIsTTY ?? false });
  let stopRequested: ((signal: string) => void) | undefined;
  let pendingSignal: string | undefined;
  return {
    stdin,
    stdout: new Sink(),
    stderr: new Sink(),
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
    homeDir: options.homeDir ?? '/nonexistent-home',
    waitForStop: () =>
      new Promise((resolve) => {
        if (pendingSignal) resolve(pendingSignal);
        else stopRequested = resolve;
      }),
    stop(signal = 'SIGINT') {
      if (stopRequested) stopRequested(signal);
      else pendingSignal = signal;
    },
  };
}

export interface MainRun {
  code: number;
  stdout: string;
  /** stdout as it was written, for output that is not text. */
  bytes: Buffer;
  stderr: string;
}

/** Runs `hangar` in-process on a captured Io: its exit code and what it printed. */
export async function runMain(argv: string[], options: CaptureOptions = {}): Promise<MainRun> {
  const io = captureIo(options);
  const code = await main(argv, io);
  return { code, stdout: io.stdout.text(), bytes: io.stdout.bytes(), stderr: io.stderr.text() };
}
