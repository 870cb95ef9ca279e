/**
 * Rewrites `?` placeholders into PostgreSQL's `$1 .. $n`, leaving alone every `?` inside a
 * string literal ('...', E'...'), a quoted identifier ("..."), a dollar-quoted string
 * ($tag$...$tag$) or a comment (a line comment, or a block comment, which may nest).
 */
export function toNumberedPlaceholders(sql: string): string {
  let out = '';
  let index = 0;
  let count = 0;
  while (index < sql.length) {
    const char = sql[index] as string;
    const next = sql[index + 1];
    let end: number;
    if (char === '?') {
      count += 1;
      out += `$${count}`;
      index += 1;
      continue;
    }
    if (char === "'") {
      end = quotedEnd(sql, index, "'", isEscapeString(sql, index));
    } else if (char === '"') {
      end = quotedEnd(sql, index, '"', false);
    } else if (char === '-' && next === '-') {
      end = lineCommentEnd(sql, index);
    } else if (char === '/' && next === '*') {
      end = blockCommentEnd(sql, index);
    } else if (char === '$') {
      end = dollarQuotedEnd(sql, index);
    } else {
      end = index + 1;
    }
    out += sql.slice(index, end);
    index = end;
  }
  return out;
}

/** True when the quote at `start` opens an E'...' string, where a backslash escapes. */
function isEscapeString(sql: string, start: number): boolean {
  const prefix = sql[start - 1];
  if (prefix !== 'E' && prefix !== 'e') return false;
  const before = sql[start - 2];
  return before === undefined || !/[A-Za-z0-9_$]/.test(before);
}

/** The index just past the closing quote; a doubled quote is an escaped one. */
function quotedEnd(sql: string, start: number, quote: string, backslashEscapes: boolean): number {
  let index = start + 1;
  while (index < sql.length) {
    const char = sql[index];
    if (backslashEscapes && char === '\\') {
      index += 2;
      continue;
    }
    if (char === quote) {
      if (sql[index + 1] === quote) {
        index += 2;
        continue;
      }
      return index + 1;
    }
    index += 1;
  }
  return sql.length;
}

function lineCommentEnd(sql: string, start: number): number {
  const newline = sql.indexOf('\n', start);
  return newline === -1 ? sql.length : newline + 1;
}

function blockCommentEnd(sql: string, start: number): number {
  let depth = 0;
  let index = start;
  while (index < sql.length) {
    if (sql[index] === '/' && sql[index + 1] === '*') {
      depth += 1;
      index += 2;
    } else if (sql[index] === '*' && sql[index + 1] === '/') {
      depth -= 1;
      index += 2;
      if (depth === 0) return index;
    } else {
      index += 1;
    }
  }
  return sql.length;
}

/** A `$tag$` opener (tag empty or an identifier) runs to the same tag; `$1` is no opener. */
function dollarQuotedEnd(sql: string, start: number): number {
  const before = sql[start - 1];
  if (before !== undefined && /[A-Za-z0-9_]/.test(before)) return start + 1;
  const opener = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(start));
  if (!opener) return start + 1;
  const tag = opener[0];
  const close = sql.indexOf(tag, start + tag.length);
  return close === -1 ? sql.length : close + tag.length;
}
