import { UsageError } from '../errors.js';
import type { FlagSpec } from '../args.js';

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export type LogLevel = (typeof logLevels)[number];

export const logLevelFlag = {
  type: 'string',
  valueName: 'LEVEL',
  describe: `log level on stderr: ${logLevels.join(', ')}`,
} as const satisfies FlagSpec;

export function logLevelFrom(value: string | undefined, fallback: LogLevel, commandPath: string) {
  if (value === undefined) return fallback;
  if (!(logLevels as readonly string[]).includes(value)) {
    throw new UsageError(`--log-level must be one of ${logLevels.join(', ')}, got "${value}"`, {
      commandPath,
      fields: [{ field: 'log-level', message: `must be one of ${logLevels.join(', ')}` }],
    });
  }
  return value as LogLevel;
}

/** Checks an `http://` or `https://` URL flag; anything else is a usage error naming it. */
export function httpUrlFlag(flag: string, value: string | undefined, commandPath: string) {
  if (value === undefined) return undefined;
  let protocol = '';
  try {
    protocol = new URL(value).protocol;
  } catch {
    protocol = '';
  }
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw new UsageError(`--${flag} must be an http:// or https:// URL, got "${value}"`, {
      commandPath,
      fields: [{ field: flag, message: 'must be an http:// or https:// URL' }],
    });
  }
  return value.replace(/\/+$/, '');
}
