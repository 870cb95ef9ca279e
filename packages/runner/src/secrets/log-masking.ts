import { pino } from 'pino';
import type { Logger } from '../logger.js';
import type { Masker } from './masker.js';

/**
 * A logger whose every line is masked as it is written: the runner logs through it, each line
 * is serialized in full (bindings, errors and all), masked with the secret values the runner
 * holds at that moment, and only then handed to `target`, the logger the runner was given.
 * Whatever a call site logs, no held value reaches the target in any masked form.
 */
export function maskingLogger(target: Logger, masker: () => Masker): Logger {
  const sink = {
    write(line: string): void {
      const masked = masker().maskText(line);
      let fields: Record<string, unknown>;
      try {
        fields = JSON.parse(masked) as Record<string, unknown>;
      } catch {
        target.warn({ line: masked.trimEnd() }, 'a masked log line');
        return;
      }
      const { level, msg, ...rest } = fields;
      const label = typeof level === 'number' ? pino.levels.labels[level] : undefined;
      const write = label ? (target as unknown as Record<string, unknown>)[label] : undefined;
      if (typeof write !== 'function') return;
      (write as (object: object, message?: string) => void).call(
        target,
        rest,
        typeof msg === 'string' ? msg : undefined,
      );
    },
  };
  return pino({ level: target.level, base: null, timestamp: false }, sink);
}
