import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DATA_CHUNK_BYTES,
  decodeJson,
  encodeChunked,
  encodeFrame,
  encodeJsonFrame,
  FrameDecoder,
  FrameType,
  MAX_FRAME_PAYLOAD_BYTES,
  ProtocolError,
  type Frame,
} from './protocol.js';

function decodeAll(bytes: Buffer, cut: (offset: number) => number): Frame[] {
  const decoder = new FrameDecoder();
  const frames: Frame[] = [];
  for (let offset = 0; offset < bytes.length;) {
    const end = Math.min(bytes.length, offset + cut(offset));
    frames.push(...decoder.push(bytes.subarray(offset, end)));
    offset = end;
  }
  assert.equal(decoder.pendingBytes, 0);
  return frames;
}

test('frames survive a stream cut at every byte', () => {
  const payload = Buffer.from([0xe2, 0x82, 0xac, 0xff, 0x00, 0x0a]);
  const stream = Buffer.concat([
    encodeFrame(FrameType.stdout, payload),
    encodeFrame(FrameType.stdinEnd),
    encodeJsonFrame(FrameType.exit, { exitCode: 3 }),
  ]);
  for (let size = 1; size <= stream.length; size += 1) {
    const frames = decodeAll(stream, () => size);
    assert.equal(frames.length, 3);
    assert.equal(frames[0]?.type, FrameType.stdout);
    assert.deepEqual(frames[0]?.payload, payload);
    assert.equal(frames[1]?.payload.length, 0);
    assert.deepEqual(decodeJson(frames[2] as Frame), { exitCode: 3 });
  }
});

test('a 5 MB payload is chunked and reassembled exactly, whatever the read sizes', () => {
  const bytes = Buffer.alloc(5 * 1024 * 1024 + 3);
  for (let i = 0; i < bytes.length; i += 1) bytes[i] = (i * 31) % 251;
  const frames = encodeChunked(FrameType.data, bytes);
  assert.equal(frames.length, Math.ceil(bytes.length / DATA_CHUNK_BYTES));
  const decoded = decodeAll(Buffer.concat(frames), (offset) => 1000 + (offset % 70_000));
  assert.deepEqual(Buffer.concat(decoded.map((frame) => frame.payload)), bytes);
});

test('an oversized or unknown frame is a protocol error', () => {
  const huge = Buffer.alloc(5);
  huge.writeUInt32BE(MAX_FRAME_PAYLOAD_BYTES + 1, 0);
  huge.writeUInt8(FrameType.data, 4);
  assert.throws(() => new FrameDecoder().push(huge), ProtocolError);
  const unknown = Buffer.from([0, 0, 0, 0, 0x7f]);
  assert.throws(() => new FrameDecoder().push(unknown), /unknown frame type 0x7f/);
  assert.throws(() => encodeFrame(FrameType.data, Buffer.alloc(MAX_FRAME_PAYLOAD_BYTES + 1)));
  assert.throws(
    () => decodeJson({ type: FrameType.exec, payload: Buffer.from('{nope') }),
    ProtocolError,
  );
});
