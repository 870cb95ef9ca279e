import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/** Paths whose values never reach a log line, whatever logged them. */
const redactPaths = [
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  'token',
  'enrollmentToken',
  'password',
  'secret',
  '*.token',
  '*.enrollmentToken',
  '*.password',
];

export function createLogger(options: { level?: string; destination?: DestinationStream } = {}) {
  return pino(
    {
      level: options.level ?? 'info',
      base: { component: 'control-plane' },
      redact: { paths: redactPaths, censor: '[redacted]' },
    },
    options.destination ?? pino.destination(2),
  );
}
