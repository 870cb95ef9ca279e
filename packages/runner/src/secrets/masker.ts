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

/** Characters Python's `quote` leaves as they are (with its default safe `/`: add it). */
const unreserved = /[A-Za-z0-9_.~-]/;

/** Percent-encodes the UTF-8 bytes of `text` except the characters `keep` matches. */
function percentEncoded(text: string, keep: RegExp): string {
  let out = '';
  for (const character of text) {
    if (keep.test(character)) out += character;
    else {
      for (const byte of Buffer.from(character, 'utf8')) {
        out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
      }
    }
  }
  return out;
}

/** The percent-encoded forms: JavaScript's two encoders, Python's quote and quote_plus. */
function percentForms(text: string): string[] {
  const component = encodeURIComponent(text);
  let uri = component;
  try {
    uri = encodeURI(text);
  } catch {
    // A lone surrogate cannot be encoded by either: asText already refused such values.
  }
  const quoted = percentEncoded(text, /[A-Za-z0-9_.~/-]/);
  const strict = percentEncoded(text, unreserved);
  const upper = [component, component.replaceAll('%20', '+'), uri, quoted, strict];
  upper.push(strict.replaceAll('%20', '+'));
  const lower = upper.map((form) => form.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase()));
  return [...upper, ...lower];
}

/**
 * The JSON-escaped forms: JSON.stringify's; with non-ASCII as \u00e4-style escapes (Python's
 * json.dumps, `jq -a`), in lower and upper hex; with `/` as `\/` (PHP's json_encode, some Java
 * encoders); and both at once.
 */
function jsonForms(text: string): string[] {
  const plain = JSON.stringify(text).slice(1, -1);
  const ascii = plain.replace(
    /[\u0080-\uffff]/g,
    (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  const upper = ascii.replace(/\\u([0-9a-f]{4})/g, (_, hex: string) => `\\u${hex.toUpperCase()}`);
  const forms = [plain, ascii, upper];
  return [...forms, ...forms.map((form) => form.replaceAll('/', '\\/'))];
}

/**
 * Every form of `value` the masker looks for: the raw bytes; hex, lower and upper case, also
 * with every byte percent-encoded (`%5a%71`); base64,
 * standard and url-safe, at each of the three offsets a value can take inside longer base64
 * text; percent-encoded as {@link percentForms} lists; JSON-escaped as {@link jsonForms} lists.
 * A value that is not valid UTF-8 is also looked for as a program sees it when it was decoded
 * to a string (each bad byte replaced by U+FFFD), as environment variables are.
 *
 * Known gap: base64 wrapped into lines (coreutils `base64` wraps at 76 columns, PEM at 64) is
 * masked only on a line that holds a whole encoded form; the lines of a longer value, or of one
 * split by a line break, show. Closing it needs matching with line breaks skipped (a masker
 * over a view of the stream without them), which would also have to map spans back.
 */
export function formsOf(value: Buffer): Buffer[] {
  const forms = new Set<string>();
  const binary: Buffer[] = [value];
  const hex = value.toString('hex');
  const everyByte = hex.replace(/../g, '%$&');
  for (const form of [hex, everyByte]) {
    forms.add(form);
    forms.add(form.toUpperCase());
  }
  for (const offset of [0, 1, 2]) {
    const core = base64Core(value, offset);
    if (core.length >= minMaskedLength) {
      forms.add(core);
      forms.add(core.replaceAll('+', '-').replaceAll('/', '_'));
    }
  }
  const text = asText(value);
  if (text === undefined) {
    binary.push(Buffer.from(value.toString('utf8'), 'utf8'));
  } else {
    for (const form of [...percentForms(text), ...jsonForms(text)]) forms.add(form);
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
 * Masks a stream chunk by chunk, with the result {@link Masker.mask} gives for the whole: a
 * value split across chunks is still masked. It holds back only the end of a chunk that could
 * begin a secret form (at most the longest form minus one byte), so ordinary output passes at
 * once; `end` masks and returns what is held. A match that ran past what was sent is sent as
 * `***` whole, and the bytes it covers are still held as context: a later match that overlaps
 * or touches it (a value repeating itself, two values sharing their ends) extends that `***`
 * rather than showing what follows it.
 */
export class StreamMasker {
  private held: Buffer = Buffer.alloc(0);
  /** Where the last `***` sent ends, counted in `held`; undefined when plain bytes followed it. */
  private maskedUntil: number | undefined;

  constructor(private readonly masker: Masker) {}

  push(chunk: Buffer): Buffer {
    if (this.masker.empty) return chunk;
    const data = this.held.length ? Buffer.concat([this.held, chunk]) : chunk;
    return this.emit(data, data.length - this.masker.pendingTail(data));
  }

  end(): Buffer {
    const rest = this.emit(this.held, this.held.length);
    this.held = Buffer.alloc(0);
    this.maskedUntil = undefined;
    return rest;
  }

  /**
   * Sends `data` up to `cut` masked, keeping the rest. Every match starting before `cut` is
   * complete (else the held tail would start earlier), so only those are masked now.
   */
  private emit(data: Buffer, cut: number): Buffer {
    const parts: Buffer[] = [];
    let masked = this.maskedUntil;
    let at = masked ?? 0;
    for (const span of this.masker.spans(data)) {
      if (span.start >= cut) break;
      if (masked === undefined || span.start > masked) {
        parts.push(data.subarray(at, span.start), replacement);
      }
      masked = Math.max(masked ?? 0, span.end);
      at = Math.max(at, masked);
    }
    if (at < cut) {
      parts.push(data.subarray(at, cut));
      at = cut;
      masked = undefined;
    }
    this.held = Buffer.from(data.subarray(cut));
    this.maskedUntil = masked === undefined ? undefined : masked - cut;
    return Buffer.concat(parts);
  }
}
