import type { OutputStream } from './protocol.js';

/** Small writes are copied into blocks of this size, so a byte-at-a-time terminal stays compact. */
const BLOCK_BYTES = 16 * 1024;

interface Block {
  stream: OutputStream;
  /** Offset of `bytes[start]` in the whole output. */
  offset: number;
  bytes: Buffer;
  start: number;
  end: number;
}

export interface OutputChunk {
  stream: OutputStream;
  offset: number;
  bytes: Buffer;
}

/**
 * The last `capacityBytes` of a process's output, each byte with the stream it came from. Offsets
 * count every byte ever appended and never reset, so a client that knows how far it got can ask
 * for the rest and learn where the buffer really starts when the oldest part is gone.
 */
export class OutputRing {
  private readonly blocks: Block[] = [];
  private total = 0;
  private retained = 0;

  constructor(private capacityBytes: number) {
    if (!(capacityBytes > 0)) throw new RangeError('an output ring needs a positive capacity');
  }

  /** Offset of the oldest byte still held (equal to `endOffset` when nothing is). */
  get startOffset(): number {
    return this.total - this.retained;
  }

  /** Offset the next appended byte gets: the number of bytes appended so far. */
  get endOffset(): number {
    return this.total;
  }

  append(stream: OutputStream, data: Uint8Array): void {
    if (data.length === 0) return;
    const last = this.blocks.at(-1);
    let rest = data;
    if (last && last.stream === stream && last.end < last.bytes.length) {
      const copied = Math.min(last.bytes.length - last.end, rest.length);
      last.bytes.set(rest.subarray(0, copied), last.end);
      last.end += copied;
      rest = rest.subarray(copied);
    }
    if (rest.length > 0) {
      const bytes = Buffer.allocUnsafe(Math.max(BLOCK_BYTES, rest.length));
      bytes.set(rest, 0);
      const offset = this.total + (data.length - rest.length);
      this.blocks.push({ stream, offset, bytes, start: 0, end: rest.length });
    }
    this.total += data.length;
    this.retained += data.length;
    this.evict();
  }

  /**
   * Up to `maxBytes` of one stream starting at `offset`, or at the oldest byte held when `offset`
   * is older than that; undefined once `offset` has reached the end.
   */
  read(offset: number, maxBytes: number): OutputChunk | undefined {
    const from = Math.max(offset, this.startOffset);
    if (from >= this.total) return undefined;
    const block = this.blocks[this.blockIndexAt(from)];
    if (!block) return undefined;
    const start = block.start + (from - block.offset);
    const end = Math.min(block.end, start + maxBytes);
    return { stream: block.stream, offset: from, bytes: block.bytes.subarray(start, end) };
  }

  /** Keeps only the newest `capacityBytes` from now on (a finished process keeps a tail). */
  shrink(capacityBytes: number): void {
    this.capacityBytes = Math.min(this.capacityBytes, capacityBytes);
    this.evict();
    const last = this.blocks.at(-1);
    if (last && last.bytes.length - last.end > 0) {
      last.bytes = Buffer.from(last.bytes.subarray(last.start, last.end));
      last.end -= last.start;
      last.start = 0;
    }
  }

  private evict(): void {
    while (this.retained > this.capacityBytes) {
      const first = this.blocks[0];
      if (!first) break;
      const excess = this.retained - this.capacityBytes;
      const length = first.end - first.start;
      if (length <= excess) {
        this.blocks.shift();
        this.retained -= length;
      } else {
        first.start += excess;
        first.offset += excess;
        this.retained -= excess;
      }
    }
  }

  /** The block holding byte `offset`, which must be within the retained range. */
  private blockIndexAt(offset: number): number {
    let low = 0;
    let high = this.blocks.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      const block = this.blocks[middle];
      if (block && block.offset <= offset) low = middle;
      else high = middle - 1;
    }
    return low;
  }
}
