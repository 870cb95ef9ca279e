import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

const redactPaths = [
  'headers.authorization',
  'authorization',
  'token',
  'enrollmentToken',
  'password',
  'privateKey',
  'credential',
  '*.token',
  '*.password',
  '*.privateKey',
  '*.credential',
];

export function createRunnerLogger(
  options: { level?: string; destination?: DestinationStream } = {},
) {
  return pino(
    {
      level: options.level ?? 'info',
      base: { component: 'runner' },
      redact: { paths: redactPaths, censor: '[redacted]' },
    },
    options.destination ?? pino.destination(2),
  );
}
