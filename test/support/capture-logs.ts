import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

/** A logger at trace level whose every line is kept, so a test can search what was logged. */
export function captureLogs(): { logger: Logger; text: () => string } {
  const lines: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(Buffer.from(chunk));
      done();
    },
  });
  return { logger: pino({ level: 'trace' }, sink), text: () => Buffer.concat(lines).toString() };
}
