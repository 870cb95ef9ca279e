import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { EnvdError } from './errors.js';
import type { OutputStream } from './protocol.js';

export interface ProcessExit {
  code: number | null;
  signal: string | null;
}

/**
 * A started command's input and output, behind pipes or a pseudo-terminal. The command leads its
 * own session and process group (its pid is both ids).
 */
export interface ProcessIo {
  readonly pid: number;
  readonly pty: boolean;
  onOutput(handler: (stream: OutputStream, chunk: Buffer) => void): void;
  /** Once: the command has exited and its output was read, or went quiet after its exit. */
  onEnd(handler: (exit: ProcessExit) => void): void;
  /** False when the input is full; `onInputDrain` then tells when it has room again. */
  writeInput(data: Buffer): boolean;
  onInputDrain(handler: () => void): void;
  closeInput(): void;
  resize(cols: number, rows: number): void;
  /** Stops reading output, so the command blocks once the kernel's buffers are full. */
  pause(): void;
  resume(): void;
}

export interface StartOptions {
  command: [string, ...string[]];
  cwd: string;
  env: Record<string, string>;
  /** After the command exits, output still open is read until it has been quiet this long. */
  outputQuietMs: number;
}

/**
 * Refuses a program that cannot be started, before anything runs: a path that is not an
 * executable file, or a name found in no directory of `PATH`.
 */
export function checkProgram(program: string, cwd: string, env: Record<string, string>): void {
  const executable = (path: string): boolean => {
    try {
      accessSync(path, constants.X_OK);
      return statSync(path).isFile();
    } catch {
      return false;
    }
  };
  if (program.includes('/')) {
    if (!executable(posix.resolve(cwd, program))) {
      throw new EnvdError('invalid_request', `${program} is not an executable file`);
    }
    return;
  }
  const dirs = (env.PATH ?? '').split(':').filter((dir) => dir !== '');
  if (!dirs.some((dir) => executable(posix.resolve(cwd, dir, program)))) {
    throw new EnvdError(
      'invalid_request',
      `${program}: command not found in the environment's PATH (${env.PATH ?? 'unset'})`,
    );
  }
}

/** Starts the command on pipes: stdout and stderr stay apart. */
export function startOnPipes(options: StartOptions): ProcessIo {
  const [program, ...args] = options.command;
  const child = spawn(program, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  child.on('error', () => undefined);
  const pid = child.pid;
  if (pid === undefined) throw new EnvdError('invalid_request', `${program} could not be started`);
  const stdin = child.stdin;
  const streams = [child.stdout, child.stderr].filter((s): s is Readable => s !== null);
  let outputHandler: (stream: OutputStream, chunk: Buffer) => void = () => undefined;
  let endHandler: (exit: ProcessExit) => void = () => undefined;
  let exit: ProcessExit | undefined;
  let open = streams.length;
  let paused = false;
  let ended = false;
  let quietTimer: NodeJS.Timeout | undefined;

  const finish = (): void => {
    if (ended || exit === undefined) return;
    ended = true;
    clearTimeout(quietTimer);
    // The pipes stay open and are drained, so children left behind do not die of SIGPIPE.
    for (const stream of streams) stream.resume();
    endHandler(exit);
  };
  const armQuietTimer = (): void => {
    if (exit === undefined || paused || ended) return;
    clearTimeout(quietTimer);
    quietTimer = setTimeout(finish, options.outputQuietMs);
  };
  const forward = (stream: Readable, name: OutputStream): void => {
    stream.on('data', (chunk: Buffer) => {
      if (ended) return;
      armQuietTimer();
      outputHandler(name, chunk);
    });
    stream.on('close', () => {
      open -= 1;
      if (open === 0) finish();
    });
  };
  if (child.stdout) forward(child.stdout, 'stdout');
  if (child.stderr) forward(child.stderr, 'stderr');
  stdin?.on('error', () => undefined);
  child.on('exit', (code, signal) => {
    exit = { code, signal };
    if (open === 0) finish();
    else armQuietTimer();
  });

  return {
    pid,
    pty: false,
    onOutput: (handler) => {
      outputHandler = handler;
    },
    onEnd: (handler) => {
      endHandler = handler;
    },
    writeInput: (data) => (stdin && !stdin.destroyed ? stdin.write(data) : true),
    onInputDrain: (handler) => {
      if (stdin && !stdin.destroyed) stdin.once('drain', handler);
      else handler();
    },
    closeInput: () => stdin?.end(),
    resize: () => undefined,
    pause: () => {
      if (ended) return;
      paused = true;
      clearTimeout(quietTimer);
      for (const stream of streams) stream.pause();
    },
    resume: () => {
      paused = false;
      for (const stream of streams) stream.resume();
      armQuietTimer();
    },
  };
}
