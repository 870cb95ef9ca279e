/** The most of one output stream or file the model is given. */
export const maxModelOutputBytes = 64 * 1024;

/**
 * Text for the model, at most {@link maxModelOutputBytes}: the start and the end of a longer
 * output, with a note of how much was left out between them (the end is usually what matters).
 */
export function forModel(data: Buffer, limit = maxModelOutputBytes): string {
  if (data.length <= limit) return data.toString('utf8');
  const head = Math.floor(limit / 4);
  const tail = limit - head;
  const left = data.length - head - tail;
  return (
    `${data.subarray(0, head).toString('utf8')}\n` +
    `[... ${left} bytes left out: the output was ${data.length} bytes, at most ${limit} are ` +
    'shown ...]\n' +
    data.subarray(data.length - tail).toString('utf8')
  );
}

/** True for data that is not text: it has a NUL byte in its first 8 KiB. */
export function looksBinary(data: Buffer): boolean {
  return data.subarray(0, 8192).includes(0);
}
