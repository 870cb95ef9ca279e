import { HangarError } from '@hangar/api/errors.js';
import type { Io } from './io.js';

/** The largest secret value, in bytes. */
export const maxSecretBytes = 64 * 1024;

type TtyInput = Io['stdin'] & { setRawMode?: (raw: boolean) => unknown };

function tooLarge(): HangarError {
  return new HangarError(
    'payload_too_large',
    `the secret value is over ${maxSecretBytes / 1024} KiB; store a larger file elsewhere and ` +
      'keep only its credential as a secret',
  );
}

/** Everything stdin holds until it ends, refused as soon as it passes the limit. */
async function readPiped(stdin: Io['stdin']): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin as AsyncIterable<Buffer | string>) {
    const bytes = Buffer.from(chunk);
    size += bytes.length;
    if (size > maxSecretBytes) {
      for (const item of chunks) item.fill(0);
      bytes.fill(0);
      throw tooLarge();
    }
    chunks.push(bytes);
  }
  const value = Buffer.concat(chunks);
  for (const item of chunks) item.fill(0);
  return value;
}

/** One line typed at the terminal, not echoed; Ctrl-C or Ctrl-D on an empty line cancels. */
async function readPrompted(io: Pick<Io, 'stdin' | 'stderr'>, prompt: string): Promise<Buffer> {
  const stdin = io.stdin as TtyInput;
  io.stderr.write(prompt);
  stdin.setRawMode?.(true);
  const typed: number[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer | string) => {
        for (const byte of Buffer.from(chunk)) {
          if (byte === 0x03 || (byte === 0x04 && typed.length === 0)) {
            reject(new HangarError('invalid_request', 'cancelled; no secret was set'));
          } else if (byte === 0x0d || byte === 0x0a || byte === 0x04) {
            resolve();
          } else if (byte === 0x7f || byte === 0x08) {
            typed.pop();
          } else {
            typed.push(byte);
          }
          if (typed.length > maxSecretBytes) reject(tooLarge());
        }
      };
      stdin.on('data', onData);
      stdin.once('end', () => resolve());
      stdin.resume();
    }).finally(() => {
      stdin.removeAllListeners('data');
      stdin.pause();
    });
  } finally {
    stdin.setRawMode?.(false);
    io.stderr.write('\n');
  }
  const value = Buffer.from(typed);
  typed.fill(0);
  return value;
}

/**
 * Reads a secret value: from a pipe or file on stdin as it is (one trailing newline dropped
 * unless `keepNewline`), or, when stdin is a terminal, from a prompt that does not echo. An
 * empty value is refused.
 */
export async function readSecretValue(
  io: Pick<Io, 'stdin' | 'stderr'>,
  options: { prompt: string; keepNewline: boolean },
): Promise<Buffer> {
  let value = io.stdin.isTTY ? await readPrompted(io, options.prompt) : await readPiped(io.stdin);
  if (!options.keepNewline && !io.stdin.isTTY) value = withoutTrailingNewline(value);
  if (value.length === 0) {
    throw new HangarError(
      'invalid_request',
      'the secret value is empty; pipe it in (`hangar secret set NAME < file`) or type it at ' +
        'the prompt',
    );
  }
  return value;
}

function withoutTrailingNewline(value: Buffer): Buffer {
  let end = value.length;
  if (value[end - 1] === 0x0a) end -= 1;
  if (end < value.length && value[end - 1] === 0x0d) end -= 1;
  return value.subarray(0, end);
}
