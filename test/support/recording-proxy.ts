import { createConnection, createServer, type Socket } from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 that records every byte between a client and a server, with the
 * WebSocket frames the client sends unmasked, so a test can search what crossed the wire.
 */
export async function startRecordingProxy(target: { host: string; port: number }) {
  const upstream: Buffer[] = [];
  const downstream: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const server = createConnection(target);
    sockets.add(client).add(server);
    const unmask = new ClientFrameDecoder();
    client.on('data', (chunk) => {
      upstream.push(chunk, ...unmask.push(chunk));
      server.write(chunk);
    });
    server.on('data', (chunk) => {
      downstream.push(chunk);
      client.write(chunk);
    });
    const end = () => {
      client.destroy();
      server.destroy();
    };
    client.on('close', end).on('error', end);
    server.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    /** Everything seen in both directions, WebSocket payloads unmasked, as one buffer. */
    recorded: () => Buffer.concat([...upstream, ...downstream]),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Finds WebSocket frames in a client's byte stream and returns their unmasked payloads. */
class ClientFrameDecoder {
  private buffer = Buffer.alloc(0);
  private upgraded = false;

  push(chunk: Buffer): Buffer[] {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    if (!this.upgraded) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end < 0) return [];
      const head = this.buffer.subarray(0, end).toString('latin1');
      this.buffer = this.buffer.subarray(end + 4);
      if (!/^upgrade:\s*websocket/im.test(head)) {
        this.buffer = Buffer.alloc(0);
        return [];
      }
      this.upgraded = true;
    }
    const payloads: Buffer[] = [];
    for (;;) {
      const frame = this.nextFrame();
      if (!frame) return payloads;
      payloads.push(frame);
    }
  }

  private nextFrame(): Buffer | undefined {
    const b = this.buffer;
    if (b.length < 2) return undefined;
    const masked = ((b[1] ?? 0) & 0x80) !== 0;
    let length = (b[1] ?? 0) & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (b.length < 4) return undefined;
      length = b.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (b.length < 10) return undefined;
      length = Number(b.readBigUInt64BE(2));
      offset = 10;
    }
    const maskLength = masked ? 4 : 0;
    if (b.length < offset + maskLength + length) return undefined;
    const mask = b.subarray(offset, offset + maskLength);
    const payload = Buffer.from(b.subarray(offset + maskLength, offset + maskLength + length));
    if (masked)
      for (let i = 0; i < payload.length; i += 1)
        payload[i] = (payload[i] ?? 0) ^ (mask[i % 4] ?? 0);
    this.buffer = b.subarray(offset + maskLength + length);
    return payload;
  }
}
