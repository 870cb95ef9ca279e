import { WebSocket } from 'ws';
import { eventually } from './stream-test-support.js';

interface ControlMessage {
  type?: string;
  processId?: string;
  replayedFrom?: number;
  offset?: number;
  code?: string;
  message?: string;
  exitCode?: number | null;
  signal?: string | null;
}

/**
 * A terminal client for tests: it keeps everything it received, the offset after the last
 * byte (from the output itself and the server's `offset` messages), and the control messages.
 */
export class TestTerminal {
  output = Buffer.alloc(0);
  /** The offset after the last output byte received. */
  offset = 0;
  readonly messages: ControlMessage[] = [];
  readonly closed: Promise<number>;

  private constructor(private readonly socket: WebSocket) {
    this.closed = new Promise((resolve) => socket.once('close', (code) => resolve(code)));
    socket.on('message', (data, isBinary) => {
      const bytes = Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]);
      if (isBinary) {
        this.output = Buffer.concat([this.output, bytes]);
        this.offset += bytes.length;
        return;
      }
      const message = JSON.parse(bytes.toString('utf8')) as ControlMessage;
      this.messages.push(message);
      if (message.type === 'ready') this.offset = message.replayedFrom ?? 0;
      if (message.type === 'offset' && message.offset !== undefined) {
        this.offset = Math.max(this.offset, message.offset);
      }
    });
  }

  /** Connects and sends the start message; resolves once connected (not yet ready). */
  static async connect(options: {
    gatewayUrl: string;
    environmentId: string;
    token: string;
    start?: Record<string, unknown>;
    protocols?: string[];
  }): Promise<TestTerminal> {
    const base = options.gatewayUrl.replace(/^http/, 'ws');
    const url = `${base}/v1/environments/${options.environmentId}/terminal`;
    const socket = options.protocols
      ? new WebSocket(url, options.protocols)
      : new WebSocket(url, { headers: { authorization: `Bearer ${options.token}` } });
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    const terminal = new TestTerminal(socket);
    if (options.start) socket.send(JSON.stringify(options.start));
    return terminal;
  }

  get protocol(): string {
    return this.socket.protocol;
  }

  message(type: string): ControlMessage | undefined {
    return this.messages.find((message) => message.type === type);
  }

  async waitForMessage(type: string): Promise<ControlMessage> {
    const arrived = await eventually(async () => this.message(type) !== undefined);
    const found = this.message(type);
    if (!arrived || !found) {
      throw new Error(`no ${type} message; got ${JSON.stringify(this.messages)}`);
    }
    return found;
  }

  /** Waits until the output holds `text`. */
  async waitForText(text: string): Promise<void> {
    const seen = await eventually(async () => this.output.toString('utf8').includes(text));
    if (!seen) throw new Error(`never saw ${JSON.stringify(text)}; got ${this.text()}`);
  }

  text(): string {
    return JSON.stringify(this.output.toString('utf8'));
  }

  type(text: string): void {
    this.socket.send(Buffer.from(text, 'utf8'));
  }

  sendText(message: Record<string, unknown>): void {
    this.socket.send(JSON.stringify(message));
  }

  /** Drops the connection without a closing handshake, as a lost network does. */
  kill(): void {
    this.socket.terminate();
  }

  close(): void {
    this.socket.close();
  }
}
