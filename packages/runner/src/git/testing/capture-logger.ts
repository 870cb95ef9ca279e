import { Writable } from 'node:stream';

import { pino } from 'pino';
import type { Logger as PinoLogger } from 'pino';

export interface CapturedLogs {
  /** A real pino logger at level `debug` that writes into memory. */
  logger: PinoLogger;
  /** Every line written so far, as pino serialised it. */
  text(): string;
}

/** A pino logger whose output a test can read back, to check what was (not) logged. */
export function captureLogs(): CapturedLogs {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  const logger = pino({ level: 'debug' }, stream);
  return { logger, text: () => chunks.join('') };
}
