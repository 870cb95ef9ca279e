import { createRequire } from 'node:module';
import type * as NodePty from 'node-pty';
import { EnvdError } from './errors.js';
import { signalName } from './process-group.js';
import type { ProcessExit, ProcessIo, StartOptions } from './process-io.js';

/** What a terminal sends for end-of-file (^D) when its program reads lines. */
const END_OF_FILE = Buffer.from([0x04]);

let loaded: typeof NodePty | undefined;

/**
 * node-pty, from envd's own package: on the host that is its installed dependency, inside a
 * sandbox the copy the runner mounts read-only at `<envd package>/node_modules/node-pty`.
 */
function nodePty(): typeof NodePty {
  if (loaded) return loaded;
  try {
    loaded = createRequire(import.meta.url)('node-pty') as typeof NodePty;
    return loaded;
  } catch (error: unknown) {
    const detail = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new EnvdError(
      'internal',
      `envd cannot open terminals: node-pty does not load here (${detail}); install envd's ` +
        'dependencies on the runner host (npm install) and restart the environment',
    );
  }
}

/** Starts the command on a new pseudo-terminal; all its output is one stream, `pty`. */
export function startOnPty(
  options: StartOptions & { cols: number; rows: number; term: string },
): ProcessIo {
  const [program, ...args] = options.command;
  const terminal = nodePty().spawn(program, args, {
    name: options.term,
    cols: options.cols,
    rows: options.rows,
    cwd: options.cwd,
    env: options.env,
    encoding: null,
  });
  let outputHandler: (chunk: Buffer) => void = () => undefined;
  let endHandler: (exit: ProcessExit) => void = () => undefined;
  let ended = false;
  // With `encoding: null` node-pty hands over Buffers, though its types say string.
  terminal.onData((data: string | Buffer) => {
    if (!ended) outputHandler(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
  });
  terminal.onExit(({ exitCode, signal }) => {
    ended = true;
    const name = signalName(signal);
    endHandler({ code: name === null ? exitCode : null, signal: name });
  });
  return {
    pid: terminal.pid,
    pty: true,
    onOutput: (handler) => {
      outputHandler = (chunk) => handler('pty', chunk);
    },
    onEnd: (handler) => {
      endHandler = handler;
    },
    // Known gap: node-pty queues what it cannot write yet without telling how much, so input to
    // a program that stops reading its terminal waits in envd's memory; a client sending more
    // than the terminal takes is bounded only by the connection it comes on.
    writeInput: (data) => {
      if (!ended) terminal.write(data);
      return true;
    },
    onInputDrain: (handler) => handler(),
    closeInput: () => {
      if (!ended) terminal.write(END_OF_FILE);
    },
    resize: (cols, rows) => {
      if (!ended) terminal.resize(cols, rows);
    },
    pause: () => terminal.pause(),
    resume: () => terminal.resume(),
  };
}
