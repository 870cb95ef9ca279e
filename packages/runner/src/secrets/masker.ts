/** What every masked form of a secret value becomes. */
export const maskReplacement = '***';

/** Values shorter than this many characters are not masked: they would hide ordinary text. */
export const minMaskedLength = 4;

const replacement = Buffer.from(maskReplacement);

/**
 * The characters of base64(value) that do not depend on the bytes around it, when the value
 * starts `offset` bytes (0, 1 or 2) into a longer text that is base64-encoded as a whole.
 */
function base64Core(value: Buffer, offset: number): string {
  const padded = Buffer.concat([Buffer.alloc(offset), value, Buffer.alloc(3)]);
  const encoded = padded.toString('base64');
  const first = Math.ceil((8 * offset) / 6);
  const end = Math.floor((8 * (offset + value.length)) / 6);
  return encoded.slice(first, end);
}

/** Decodes `value` as UTF-8 only when it is valid UTF-8 (the text forms need real text). */
function asText(value: Buffer): string | undefined {
  const text = value.toString('utf8');
  return Buffer.from(text, 'utf8').equals(value) ? text : undefined;
}

/**
 * Every form of `value` the masker looks for: the raw bytes; base64, standard and url-safe, at
 * each of the three offsets a value can take inside longer base64 text; encodeURIComponent and
 * its form variant (`+` for spaces); JSON-escaped (JSON.stringify without the quotes).
 */
export function formsOf(value: Buffer): Buffer[] {
  const forms = new Set<string>();
  const binary: Buffer[] = [value];
  for (const offset of [0, 1, 2]) {
    const core = base64Core(value, offset);
    if (core.length >= minMaskedLength) {
      forms.add(core);
      forms.add(core.replaceAll('+', '-').replaceAll('/', '_'));
    }
  }
  const text = asText(value);
  if (text !== undefined) {
    const uri = encodeURIComponent(text);
    forms.add(uri);
    forms.add(uri.replaceAll('%20', '+'));
    forms.add(JSON.stringify(text).slice(1, -1));
    forms.delete(text);
  }
  return [...binary, ...[...forms].map((form) => Buffer.from(form, 'utf8'))];
}

/** Whether a value is long enough to be masked (see {@link minMaskedLength}). */
export function isMaskable(value: Buffer): boolean {
  const text = asText(value);
  const length = text === undefined ? value.length : [...text].length;
  return length >= minMaskedLength;
}

interface Span {
  start: number;
  end: number;
}

/**
 * Replaces secret values in text and byte streams with `***`, in every form {@link formsOf}
 * lists. Overlapping matches (of one value or of several) become one `***`, so no part of either
 * value shows. Values shorter than {@link minMaskedLength} are left out (the caller warns).
 */
export class Masker {
  private readonly forms: Buffer[];
  /** The longest form, in bytes: a stream holds back at most this minus one. */
  readonly longest: number;

  constructor(values: Iterable<Buffer>) {
    const seen = new Set<string>();
    const forms: Buffer[] = [];
    for (const value of values) {
      if (!isMaskable(value)) continue;
      for (const form of formsOf(value)) {
        const key = form.toString('hex');
        if (form.length === 0 || seen.has(key)) continue;
        seen.add(key);
        forms.push(form);
      }
    }
    this.forms = forms;
    this.longest = forms.reduce((max, form) => Math.max(max, form.length), 0);
  }

  static readonly none = new Masker([]);

  get empty(): boolean {
    return this.forms.length === 0;
  }

  mask(data: Buffer): Buffer {
    if (this.empty) return data;
    return replaceSpans(data, this.spans(data), data.length);
  }

  maskText(text: string): string {
    if (this.empty) return text;
    return this.mask(Buffer.from(text, 'utf8')).toString('utf8');
  }

  /** A masker for output that arrives in chunks (see {@link StreamMasker}). */
  stream(): StreamMasker {
    return new StreamMasker(this);
  }

  /** Every match of every form, merged where they overlap or touch, in order. */
  spans(data: Buffer): Span[] {
    const found: Span[] = [];
    for (const form of this.forms) {
      for (let at = data.indexOf(form); at !== -1; at = data.indexOf(form, at + 1)) {
        found.push({ start: at, end: at + form.length });
      }
    }
    found.sort((a, b) => a.start - b.start || b.end - a.end);
    const merged: Span[] = [];
    for (const span of found) {
      const last = merged.at(-1);
      if (last && span.start <= last.end) last.end = Math.max(last.end, span.end);
      else merged.push({ ...span });
    }
    return merged;
  }

  /**
   * How many bytes at the end of `data` could be the start of a form that the next chunk
   * completes: the longest suffix of `data` that is a proper prefix of a form.
   */
  pendingTail(data: Buffer): number {
    let held = 0;
    for (const form of this.forms) {
      const limit = Math.min(form.length - 1, data.length);
      for (let length = limit; length > held; length -= 1) {
        const from = data.length - length;
        if (data[from] === form[0] && data.subarray(from).equals(form.subarray(0, length))) {
          held = length;
          break;
        }
      }
    }
    return held;
  }
}

/** `data` up to `until` with each span replaced by `***`. */
function replaceSpans(data: Buffer, spans: Span[], until: number): Buffer {
  if (spans.length === 0) return data.subarray(0, until);
  const parts: Buffer[] = [];
  let at = 0;
  for (const span of spans) {
    parts.push(data.subarray(at, span.start), replacement);
    at = span.end;
  }
  parts.push(data.subarray(at, Math.max(at, until)));
  return Buffer.concat(parts);
}

/**
 * Masks a stream chunk by chunk: a value split across chunks is still masked. It holds back only
 * the end of a chunk that could begin a secret form (at most the longest form minus one byte),
 * so ordinary output passes at once; `end` masks and returns what is held.
 */
export class StreamMasker {
  private held: Buffer = Buffer.alloc(0);

  constructor(private readonly masker: Masker) {}

  push(chunk: Buffer): Buffer {
    if (this.masker.empty) return chunk;
    const data = this.held.length ? Buffer.concat([this.held, chunk]) : chunk;
    let cut = data.length - this.masker.pendingTail(data);
    // A match that starts before the cut is complete (else the tail would have been longer); one
    // that runs past the cut is sent whole.
    const spans = this.masker.spans(data).filter((span) => span.start < cut);
    for (const span of spans) cut = Math.max(cut, span.end);
    this.held = Buffer.from(data.subarray(cut));
    return replaceSpans(data, spans, cut);
  }

  end(): Buffer {
    const rest = this.masker.mask(this.held);
    this.held = Buffer.alloc(0);
    return rest;
  }
}
