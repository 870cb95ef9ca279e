import type { HangarError } from '@hangar/api';
import { requestIdOf } from './errors.js';
import type { Io } from './io.js';

/**
 * The one place the CLI writes: results to stdout (JSON with `--json`, text otherwise), and
 * progress, guidance and errors to stderr, so that stdout can always be piped or parsed.
 */
export class Output {
  readonly json: boolean;

  constructor(
    private readonly io: Pick<Io, 'stdout' | 'stderr'>,
    options: { json: boolean },
  ) {
    this.json = options.json;
  }

  /** The command's result: `value` as JSON with `--json`, else the lines `text` returns. */
  result(value: unknown, text: () => string | readonly string[]): void {
    if (this.json) {
      this.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
      return;
    }
    const lines = text();
    const body = typeof lines === 'string' ? lines : lines.join('\n');
    if (body.length > 0) this.io.stdout.write(body.endsWith('\n') ? body : `${body}\n`);
  }

  /** Bytes that are the result themselves (a log, command output): written as they are. */
  raw(data: Uint8Array | string): void {
    this.io.stdout.write(data);
  }

  /** Progress and guidance for a person: always stderr, in every mode. */
  info(message: string): void {
    this.io.stderr.write(`${message}\n`);
  }

  warn(message: string): void {
    this.io.stderr.write(`warning: ${message}\n`);
  }

  /** `error <code>: <message>`, each field problem, and the request id, to stderr. */
  error(error: HangarError, hint?: string): void {
    const lines = [`error ${error.code}: ${error.message}`];
    for (const field of error.fields ?? []) {
      if (!error.message.includes(field.message)) lines.push(`  ${field.field}: ${field.message}`);
    }
    const requestId = requestIdOf(error);
    if (requestId) lines.push(`  request id: ${requestId}`);
    if (hint) lines.push(hint);
    this.io.stderr.write(`${lines.join('\n')}\n`);
    if (this.json) {
      const body: Record<string, unknown> = { code: error.code, message: error.message };
      if (requestId) body.requestId = requestId;
      if (error.fields && error.fields.length > 0) body.fields = error.fields;
      const policy = error.details?.policy;
      if (typeof policy === 'string') body.policy = policy;
      this.io.stdout.write(`${JSON.stringify({ error: body }, null, 2)}\n`);
    }
  }
}

/** Left-aligned columns separated by two spaces, without trailing blanks. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const all = [header, ...rows];
  const widths = header.map((_, column) =>
    Math.max(...all.map((row) => (row[column] ?? '').length)),
  );
  return all.map((row) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

/** `3m ago`, `2h ago`, `5d ago` from an RFC 3339 time; `-` when absent. */
export function age(time: string | undefined, nowMs: number): string {
  if (!time) return '-';
  const seconds = Math.max(0, Math.round((nowMs - Date.parse(time)) / 1000));
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h ago`;
  return `${Math.floor(seconds / 86400)}d ago`;
}
