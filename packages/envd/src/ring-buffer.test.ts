import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { OutputStream } from './protocol.js';
import { OutputRing, type OutputChunk } from './ring-buffer.js';

function readAll(ring: OutputRing, from: number, maxBytes = 1 << 20): OutputChunk[] {
  const chunks: OutputChunk[] = [];
  for (let offset = from; ;) {
    const chunk = ring.read(offset, maxBytes);
    if (!chunk) return chunks;
    chunks.push(chunk);
    offset = chunk.offset + chunk.bytes.length;
  }
}

function text(chunks: OutputChunk[]): string {
  return chunks.map((chunk) => `${chunk.stream}:${chunk.bytes.toString()}`).join('|');
}

test('bytes keep their stream and offset; small writes of one stream are merged', () => {
  const ring = new OutputRing(1024);
  ring.append('stdout', Buffer.from('ab'));
  ring.append('stdout', Buffer.from('cd'));
  ring.append('stderr', Buffer.from('EF'));
  ring.append('stdout', Buffer.from('g'));
  assert.equal(ring.startOffset, 0);
  assert.equal(ring.endOffset, 7);
  const chunks = readAll(ring, 0);
  assert.equal(text(chunks), 'stdout:abcd|stderr:EF|stdout:g');
  assert.deepEqual(
    chunks.map((chunk) => chunk.offset),
    [0, 4, 6],
  );
  assert.equal(text(readAll(ring, 5)), 'stderr:F|stdout:g', 'a read may start inside a chunk');
  assert.equal(ring.read(7, 10), undefined, 'nothing past the end');
  assert.equal(text(readAll(ring, 0, 3)), 'stdout:abc|stdout:d|stderr:EF|stdout:g');
});

test('past its capacity the oldest bytes go, offsets never reset', () => {
  const ring = new OutputRing(10);
  const streams: OutputStream[] = ['stdout', 'stderr'];
  let written = '';
  for (let i = 0; i < 40; i += 1) {
    const piece = String.fromCharCode(97 + (i % 26)).repeat(1 + (i % 3));
    ring.append(streams[i % 2] ?? 'stdout', Buffer.from(piece));
    written += piece;
  }
  assert.equal(ring.endOffset, written.length);
  assert.equal(ring.startOffset, written.length - 10);
  const kept = readAll(ring, 0);
  assert.equal(kept[0]?.offset, written.length - 10, 'a read from 0 starts at the oldest held');
  assert.equal(kept.map((chunk) => chunk.bytes.toString()).join(''), written.slice(-10));
  for (let i = 1; i < kept.length; i += 1) {
    const previous = kept[i - 1];
    assert.ok(previous);
    assert.equal(kept[i]?.offset, previous.offset + previous.bytes.length, 'no gap, no overlap');
  }
});

test('a chunk bigger than the capacity keeps its own tail', () => {
  const ring = new OutputRing(4);
  ring.append('pty', Buffer.from('0123456789'));
  assert.equal(ring.startOffset, 6);
  assert.equal(text(readAll(ring, 0)), 'pty:6789');
  ring.append('pty', Buffer.from('ab'));
  assert.equal(text(readAll(ring, 0)), 'pty:89ab');
});

test('shrinking keeps the newest bytes, and appending still works after it', () => {
  const ring = new OutputRing(1 << 20);
  ring.append('stdout', Buffer.alloc(100_000, 'x'));
  ring.append('stderr', Buffer.from('tail'));
  ring.shrink(10);
  assert.equal(ring.startOffset, 100_004 - 10);
  assert.equal(
    readAll(ring, 0)
      .map((chunk) => chunk.bytes.toString())
      .join(''),
    'xxxxxxtail',
  );
  ring.append('stderr', Buffer.from('!'));
  assert.equal(ring.endOffset, 100_005);
  assert.equal(ring.startOffset, 100_005 - 10);
  assert.throws(() => new OutputRing(0), RangeError);
});

test('a byte-at-a-time writer costs no more than the bytes it keeps', () => {
  const ring = new OutputRing(64 * 1024);
  for (let i = 0; i < 200_000; i += 1) ring.append('pty', Buffer.from([i % 256]));
  const chunks = readAll(ring, 0);
  assert.ok(chunks.length <= 6, `${chunks.length} blocks hold 64 KiB`);
  const first = chunks[0];
  assert.equal(first?.offset, 200_000 - 64 * 1024);
  assert.equal(first.bytes[0], (200_000 - 64 * 1024) % 256);
});
