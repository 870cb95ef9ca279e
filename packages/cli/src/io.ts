import { homedir } from 'node:os';
import type { Readable, Writable } from 'node:stream';

/**
 * Everything the CLI touches outside itself: streams, environment, working directory and the
 * stop request of foreground commands. `main` takes one, so tests run the CLI in-process.
 */
export interface Io {
  readonly stdin: Readable & { isTTY?: boolean };
  readonly stdout: Writable & { isTTY?: boolean };
  readonly stderr: Writable & { isTTY?: boolean };
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly homeDir: string;
  /** Resolves with the signal's name once the process is asked to stop (SIGINT, SIGTERM). */
  waitForStop(): Promise<string>;
}

/** The real process: a second Ctrl-C during shutdown falls through to Node's default (exit). */
/**
 * A reader that went away (a closed pipe, as when Ctrl-C also ends `| tee`) must not stop a
 * server half-way through its shutdown: writes after that are dropped.
 */
function ignoreClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error;
  });
}

export function processIo(): Io {
  ignoreClosedPipe(process.stdout);
  ignoreClosedPipe(process.stderr);
  return {
    get stdin() {
      return process.stdin;
    },
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    homeDir: homedir(),
    waitForStop: () =>
      new Promise((resolve) => {
        const stop = (signal: NodeJS.Signals) => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve(signal);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      }),
  };
}
