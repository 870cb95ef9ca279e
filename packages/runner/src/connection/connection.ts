import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import {
  ServerMessage,
  controlPlaneWelcomeMessage,
  verifyBytes,
  runnerChallengeMessage,
  runnerProtocolVersion,
  runnerReplacedCloseCode,
  signBytes,
  validator,
  type RunnerClass,
  type RunnerMessage,
} from '@hangar/api';
import type { RunnerIdentity } from '../identity.js';
import type { Logger } from '../logger.js';
import { Backoff } from './backoff.js';

const checkServerMessage = validator(ServerMessage, 'control plane message');

type Welcome = ServerMessage & { type: 'welcome' };
type EnvironmentPush = ServerMessage & { type: 'environment' };

export interface ConnectionEvents {
  welcome: [Welcome];
  environment: [EnvironmentPush['environment']];
  auditAck: [number];
  disconnected: [];
}

export type ConnectionState = 'idle' | 'connecting' | 'authenticating' | 'connected' | 'closed';

/**
 * The runner's outbound WebSocket to the control plane. It never listens for the control plane.
 * On every connection it answers the challenge with its key, then receives the full desired
 * state. It reconnects with capped exponential backoff and jitter until `close`.
 */
export class ControlPlaneConnection extends EventEmitter<ConnectionEvents> {
  private socket: WebSocket | undefined;
  private state: ConnectionState = 'idle';
  private readonly backoff = new Backoff({ baseMs: 250, capMs: 15000 });
  private retryTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private serverNonce = '';
  private runnerNonce = '';

  constructor(
    private readonly options: {
      identity: RunnerIdentity;
      gatewayUrl: () => string;
      classes: RunnerClass[];
      logger: Logger;
    },
  ) {
    super();
  }

  get connected(): boolean {
    return this.state === 'connected';
  }

  start(): void {
    if (this.state !== 'idle') return;
    this.open();
  }

  send(message: RunnerMessage): boolean {
    if (this.state !== 'connected' || !this.socket) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  close(): void {
    this.transition('closed');
    clearTimeout(this.retryTimer);
    clearInterval(this.heartbeatTimer);
    this.socket?.close(1000, 'runner stopping');
  }

  private transition(next: ConnectionState): void {
    if (this.state === next) return;
    this.options.logger.debug({ from: this.state, to: next }, 'connection state');
    this.state = next;
  }

  private open(): void {
    const url = new URL('/v1/runners/connect', this.options.identity.controlPlaneUrl);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    this.transition('connecting');
    const socket = new WebSocket(url, { maxPayload: 64 * 1024 * 1024, handshakeTimeout: 10000 });
    this.socket = socket;
    socket.on('open', () => this.transition('authenticating'));
    socket.on('message', (data: Buffer) => this.onMessage(socket, data.toString('utf8')));
    socket.on('error', (error) => {
      this.options.logger.warn({ err: error.message }, 'control plane connection error');
    });
    socket.on('close', (code, reason) => this.onClose(socket, code, reason.toString()));
  }

  private onMessage(socket: WebSocket, text: string): void {
    let message: ServerMessage;
    try {
      message = checkServerMessage(JSON.parse(text));
    } catch (error) {
      this.options.logger.error({ err: error }, 'control plane sent a message this runner refuses');
      socket.close(4002, 'malformed message');
      return;
    }
    if (message.type === 'challenge') {
      const { identity } = this.options;
      this.serverNonce = message.nonce;
      this.runnerNonce = randomBytes(32).toString('base64url');
      socket.send(
        JSON.stringify({
          type: 'hello',
          protocolVersion: runnerProtocolVersion,
          runnerId: identity.runnerId,
          signature: signBytes(
            identity.privateKey,
            runnerChallengeMessage(message.nonce, identity.runnerId),
          ),
          nonce: this.runnerNonce,
          gatewayUrl: this.options.gatewayUrl(),
          classes: this.options.classes,
        } satisfies RunnerMessage),
      );
    } else if (message.type === 'welcome') {
      const problem = this.welcomeProblem(message);
      if (problem) {
        this.options.logger.error(
          { problem },
          'refusing the control plane: it did not prove itself',
        );
        socket.close(4005, 'control plane not authenticated');
        return;
      }
      this.transition('connected');
      this.backoff.reset();
      this.startHeartbeat(message.heartbeatIntervalMs);
      this.options.logger.info({ runnerId: message.runnerId }, 'connected to the control plane');
      this.emit('welcome', message);
    } else if (message.type === 'environment') {
      this.emit('environment', message.environment);
    } else if (message.type === 'audit-ack') {
      this.emit('auditAck', message.upToLocalSeq);
    } else {
      this.options.logger.warn({ code: message.code }, message.message);
    }
  }

  /**
   * The welcome must be signed by the key the runner received at enrollment, over this
   * connection's two nonces; anything else may be an impostor answering the runner's dial, which
   * must not be able to change desired state, drop queued audit records or issue grants.
   */
  private welcomeProblem(welcome: Welcome): string | undefined {
    const { identity } = this.options;
    if (welcome.controlPlanePublicKey !== identity.controlPlanePublicKeyRaw) {
      return 'its key differs from the key pinned at enrollment; re-enroll the runner if it changed';
    }
    if (welcome.runnerId !== identity.runnerId) return 'it welcomed another runner id';
    const signed = controlPlaneWelcomeMessage({
      runnerId: identity.runnerId,
      runnerNonce: this.runnerNonce,
      serverNonce: this.serverNonce,
    });
    if (!verifyBytes(identity.controlPlanePublicKey, signed, welcome.signature)) {
      return 'its welcome signature does not verify';
    }
    return undefined;
  }

  private startHeartbeat(intervalMs: number): void {
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = setInterval(() => this.send({ type: 'heartbeat' }), intervalMs);
    this.heartbeatTimer.unref();
  }

  private onClose(socket: WebSocket, code: number, reason: string): void {
    if (socket !== this.socket) return;
    clearInterval(this.heartbeatTimer);
    const wasConnected = this.state === 'connected';
    if (wasConnected) this.emit('disconnected');
    if (this.state === 'closed') return;
    if (code === runnerReplacedCloseCode) {
      this.options.logger.error(
        { code, reason },
        'another process connected with this runner identity; this one stops reconnecting',
      );
      this.transition('closed');
      return;
    }
    const delayMs = this.backoff.next();
    this.options.logger.warn(
      { code, reason, delayMs },
      'control plane connection closed; retrying',
    );
    this.transition('idle');
    this.retryTimer = setTimeout(() => {
      if (this.state === 'idle') this.open();
    }, delayMs);
    this.retryTimer.unref();
  }
}
