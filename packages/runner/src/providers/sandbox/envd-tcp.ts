import { Duplex } from 'node:stream';
import { HangarError } from '@hangar/api';
import {
  decodeJson,
  encodeChunked,
  encodeFrame,
  encodeJsonFrame,
  FrameType,
  ProtocolError,
  type Frame,
  type TcpConnectRequest,
} from '@hangar/envd/protocol.js';
import type { ListeningPort } from '../provider.js';
import { parsePortList } from './envd-answers.js';
import {
  errorFromFrame,
  toHangarError,
  unexpected,
  type EnvdTransport,
  type Exchange,
} from './envd-exchange.js';
import { jsonInData } from './envd-processes.js';

export function listPorts(transport: EnvdTransport): Promise<ListeningPort[]> {
  return jsonInData(transport, FrameType.listPorts, parsePortList);
}

/**
 * Dials `host:port` from inside the environment through envd. Resolves once the connection is
 * up (`port_closed` when nothing listens there) with a stream of its raw bytes: ending the
 * stream half-closes the connection, and the server's end ends the readable side.
 */
export async function connectTcp(
  transport: EnvdTransport,
  port: number,
  host?: string,
): Promise<Duplex> {
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new HangarError('invalid_request', `port must be a whole number from 1 to 65535`);
  }
  const ex = await transport.connect();
  const request: TcpConnectRequest = { port, ...(host !== undefined ? { host } : {}) };
  return new Promise<Duplex>((resolve, reject) => {
    let stream: TcpStream | undefined;
    ex.onClose((error) => {
      if (stream) stream.onExchangeClosed(error);
      else
        reject(
          error instanceof ProtocolError ? toHangarError(error) : transport.closedEarly(error),
        );
    });
    ex.onFrame((frame) => {
      if (stream) return stream.onFrame(frame);
      try {
        if (frame.type === FrameType.error) throw errorFromFrame(frame);
        if (frame.type !== FrameType.result) throw unexpected(frame);
        decodeJson(frame);
        stream = new TcpStream(ex, transport);
        resolve(stream);
      } catch (error: unknown) {
        reject(toHangarError(error));
        ex.close();
      }
    });
    ex.write(encodeJsonFrame(FrameType.tcpConnect, request));
  });
}

/**
 * The bytes of one TCP connection inside the environment. While the reader does not want more,
 * frames are held back, so envd stops reading from the server; writes wait for the socket.
 */
class TcpStream extends Duplex {
  private resumeReading: (() => void) | undefined;
  private readableDone = false;
  private writableDone = false;

  constructor(
    private readonly ex: Exchange,
    private readonly transport: EnvdTransport,
  ) {
    // Not destroyed when both sides are done here: the last bytes written may still be on their
    // way from envd to the server, and closing the exchange would make envd drop them. envd
    // closes the exchange once the connection inside is closed, and that ends the stream.
    super({ allowHalfOpen: true, autoDestroy: false });
  }

  onFrame(frame: Frame): void | Promise<void> {
    if (frame.type === FrameType.data) {
      if (this.push(frame.payload)) return;
      return new Promise<void>((resolve) => {
        this.resumeReading = resolve;
      });
    }
    if (frame.type === FrameType.dataEnd) {
      this.readableDone = true;
      this.push(null);
      return;
    }
    if (frame.type === FrameType.error) throw errorFromFrame(frame);
    throw unexpected(frame);
  }

  onExchangeClosed(error: Error | undefined): void {
    this.resumeReading?.();
    if (this.destroyed) return;
    if (error instanceof HangarError || error instanceof ProtocolError) {
      this.destroy(toHangarError(error));
    } else if (!this.readableDone || !this.writableDone) {
      this.destroy(this.transport.closedEarly(error));
    } else if (this.readableEnded) {
      this.destroy();
    } else {
      // Both sides have ended: the stream closes once its reader has taken every byte.
      this.once('end', () => this.destroy());
    }
  }

  override _read(): void {
    const resume = this.resumeReading;
    this.resumeReading = undefined;
    resume?.();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error) => void) {
    this.ex.writeAll(encodeChunked(FrameType.data, chunk)).then(
      () => callback(),
      (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
    );
  }

  override _final(callback: (error?: Error) => void): void {
    this.writableDone = true;
    this.ex.write(encodeFrame(FrameType.dataEnd));
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.resumeReading?.();
    this.ex.close();
    callback(error);
  }
}
