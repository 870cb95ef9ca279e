import type { Connection } from './connection.js';
import { EnvdError } from './errors.js';
import type { ManagedProcess, ProcessClient } from './processes.js';
import {
  DATA_CHUNK_BYTES,
  decodeJson,
  encodeOutput,
  FrameType,
  type AttachRequest,
  type AttachResult,
  type Frame,
  type ProcessInfoBody,
} from './protocol.js';
import { parseResize } from './requests.js';

/**
 * One client attached to a process over one connection. It reads the process's output ring from
 * its own cursor: first what is buffered from the offset it asked for, then new output as it
 * comes. While the socket is full the process is held (its output is not read), and once the
 * process has exited and everything up to its end was sent, `exited` closes the exchange.
 * Closing the connection detaches and leaves the process running.
 */
export class AttachSession implements ProcessClient {
  private cursor = 0;
  private blocked = false;
  private finished = false;
  private exitInfo: ProcessInfoBody | undefined;
  private detach: () => void = () => undefined;
  private inputWaiting = false;

  constructor(
    private readonly conn: Connection,
    private readonly managed: ManagedProcess,
    private readonly request: AttachRequest,
  ) {}

  start(): void {
    const ring = this.managed.output;
    const asked = this.request.fromOffset ?? ring.endOffset;
    this.cursor = Math.max(Math.min(asked, ring.endOffset), ring.startOffset);
    const result: AttachResult = { replayedFrom: this.cursor, process: this.managed.info() };
    this.conn.sendJson(FrameType.result, result);
    this.conn.onFrame((frame) => this.onFrame(frame));
    this.conn.onClose(() => this.close());
    if (this.managed.exited) this.exitInfo = this.managed.info();
    else this.detach = this.managed.attach(this);
    this.pump();
  }

  onOutput(): void {
    this.pump();
  }

  onExit(info: ProcessInfoBody): void {
    this.exitInfo = info;
    this.pump();
  }

  private pump(): void {
    if (this.finished || this.blocked || this.conn.isClosed) return;
    for (;;) {
      const chunk = this.managed.output.read(this.cursor, DATA_CHUNK_BYTES);
      if (!chunk) break;
      this.cursor = chunk.offset + chunk.bytes.length;
      if (!this.conn.sendFrame(encodeOutput(chunk.stream, chunk.offset, chunk.bytes))) {
        this.block();
        return;
      }
    }
    if (this.exitInfo === undefined) return;
    this.finished = true;
    this.conn.sendJson(FrameType.exited, this.exitInfo);
    this.conn.end();
    this.detach();
  }

  private block(): void {
    this.blocked = true;
    this.managed.hold();
    this.conn.onDrain(() => {
      if (!this.blocked) return;
      this.blocked = false;
      this.managed.release();
      this.pump();
    });
  }

  private close(): void {
    if (this.blocked) {
      this.blocked = false;
      this.managed.release();
    }
    this.finished = true;
    this.detach();
  }

  private onFrame(frame: Frame): void {
    if (this.finished) return;
    if (frame.type === FrameType.stdin) {
      if (!this.managed.writeInput(frame.payload) && !this.inputWaiting) {
        this.inputWaiting = true;
        this.conn.pauseReading();
        this.managed.onInputDrain(() => {
          this.inputWaiting = false;
          this.conn.resumeReading();
        });
      }
    } else if (frame.type === FrameType.stdinEnd) {
      this.managed.closeInput();
    } else if (frame.type === FrameType.resize) {
      const size = parseResize(decodeJson(frame));
      this.managed.resize(size.cols, size.rows);
    } else {
      throw new EnvdError(
        'invalid_request',
        `attach: unexpected frame 0x${frame.type.toString(16)}; send stdin, stdinEnd or resize`,
      );
    }
  }
}
