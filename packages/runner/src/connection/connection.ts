import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import {
  HangarError,
  ServerMessage,
  fingerprint,
  generateEd25519,
  newId,
  controlPlaneWelcomeMessage,
  verifyBytes,
  privateKeyObject,
  runnerChallengeMessage,
  runnerDisabledCloseCode,
  runnerProtocolVersion,
  runnerReplacedCloseCode,
  runnerRotateKeyMessage,
  signBytes,
  validator,
  type DesiredAgentTask,
  type Ed25519KeyPair,
  type RevokeMessage,
  type RunnerClass,
  type RunnerMessage,
  type RunnerSsh,
} from '@hangar/api';
import { rotateIdentityKey, type RunnerIdentity } from '../identity.js';
import type { Logger } from '../logger.js';
import { Backoff } from './backoff.js';

const checkServerMessage = validator(ServerMessage, 'control plane message');

type Welcome = ServerMessage & { type: 'welcome' };
type EnvironmentPush = ServerMessage & { type: 'environment' };
type SshAuthorizationMessage = ServerMessage & { type: 'ssh-authorization' };

export interface ConnectionEvents {
  welcome: [Welcome];
  environment: [EnvironmentPush['environment']];
  auditAck: [number];
  /** The control plane asks to end live sessions (an SSH key removed, an environment deleted). */
  revoke: [RevokeMessage];
  /** The control plane accepted a new key and it replaced the old one; its fingerprint. */
  keyRotated: [string];
  /** An agent task was created or asked to stop. */
  agentTask: [DesiredAgentTask];
  /** The answer to an `agent-grant-request`. */
  agentGrant: [AgentGrantAnswer];
  disconnected: [];
}

export type AgentGrantAnswer = Extract<ServerMessage, { type: 'agent-grant' }>;

/** An SSH login the runner's gateway asks the control plane to decide. */
export interface SshAuthorizeRequest {
  /** An environment id, or the name of one of the key owner's environments. */
  username: string;
  keyType: string;
  /** The key blob the client offered, base64. */
  publicKey: string;
  sourceAddress: string;
}

export type SshAuthorizeResult =
  { ok: true; token: string; environmentId: string } | { ok: false; code: string; message: string };

/** How long an SSH authorization may wait for the control plane's answer by default. */
export const sshAuthorizeTimeoutMs = 10000;

interface PendingAuthorization {
  resolve: (result: SshAuthorizeResult) => void;
  reject: (error: HangarError) => void;
  timer: NodeJS.Timeout;
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
  private readonly pendingSsh = new Map<string, PendingAuthorization>();
  /** The new key pair sent in `rotate-key`, until the control plane accepts it. */
  private pendingKey: Ed25519KeyPair | undefined;

  constructor(
    private readonly options: {
      identity: RunnerIdentity;
      gatewayUrl: () => string;
      classes: RunnerClass[];
      logger: Logger;
      /** The SSH gateway to publish in each hello (address and host keys), when there is one. */
      ssh?: () => RunnerSsh | undefined;
      /** How long `authorizeSsh` waits for an answer; `sshAuthorizeTimeoutMs` by default. */
      sshAuthorizeTimeoutMs?: number;
      /** The X25519 public key secrets are sealed to, sent in every hello. */
      encryptionKey?: string;
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
    this.failPendingSsh('the runner is stopping');
  }

  /**
   * Asks the control plane whether an SSH client's key may open the environment its user name
   * names. Resolves with a grant or a refusal; rejects with `runner_unavailable` when the control
   * plane is not connected or does not answer in time, so the gateway refuses the login.
   */
  authorizeSsh(request: SshAuthorizeRequest): Promise<SshAuthorizeResult> {
    const requestId = newId('req');
    const sent = this.send({ type: 'ssh-authorize', requestId, ...request });
    if (!sent) {
      return Promise.reject(
        new HangarError(
          'runner_unavailable',
          'the control plane is not connected, so SSH keys cannot be checked; try again later',
        ),
      );
    }
    const timeoutMs = this.options.sshAuthorizeTimeoutMs ?? sshAuthorizeTimeoutMs;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pendingSsh.delete(requestId);
        reject(
          new HangarError(
            'runner_unavailable',
            `the control plane did not answer the SSH authorization within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      timer.unref();
      this.pendingSsh.set(requestId, { resolve, reject, timer });
    });
  }

  private settleSsh(message: SshAuthorizationMessage): void {
    const pending = this.pendingSsh.get(message.requestId);
    if (!pending) {
      this.options.logger.warn(
        { requestId: message.requestId },
        'an SSH authorization nobody waits for (late or unknown); ignored',
      );
      return;
    }
    this.pendingSsh.delete(message.requestId);
    clearTimeout(pending.timer);
    pending.resolve(
      message.ok
        ? { ok: true, token: message.token, environmentId: message.environmentId }
        : { ok: false, code: message.code, message: message.message },
    );
  }

  private failPendingSsh(why: string): void {
    for (const [requestId, pending] of this.pendingSsh) {
      this.pendingSsh.delete(requestId);
      clearTimeout(pending.timer);
      pending.reject(
        new HangarError('runner_unavailable', `${why}; the SSH authorization got no answer`),
      );
    }
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
          ...this.sshField(),
          ...(this.options.encryptionKey ? { encryptionKey: this.options.encryptionKey } : {}),
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
    } else if (message.type === 'ssh-authorization') {
      this.settleSsh(message);
    } else if (message.type === 'revoke') {
      this.emit('revoke', message);
    } else if (message.type === 'rotate-key-request') {
      this.sendNewKey(socket);
    } else if (message.type === 'key-rotated') {
      void this.adoptNewKey(message.publicKeyFingerprint);
    } else if (message.type === 'agent-task') {
      this.emit('agentTask', message.task);
    } else if (message.type === 'agent-grant') {
      this.emit('agentGrant', message);
    } else {
      this.options.logger.warn({ code: message.code }, message.message);
    }
  }

  /** Makes a new key pair and proves it to the control plane over this authenticated socket. */
  private sendNewKey(socket: WebSocket): void {
    const { identity, logger } = this.options;
    const pair = generateEd25519();
    this.pendingKey = pair;
    const signed = runnerRotateKeyMessage({
      runnerId: identity.runnerId,
      serverNonce: this.serverNonce,
    });
    logger.info({ fingerprint: fingerprint(pair.publicKey) }, 'rotating the runner key');
    socket.send(
      JSON.stringify({
        type: 'rotate-key',
        publicKey: pair.publicKey,
        proof: signBytes(privateKeyObject(pair.privateKey), signed),
      } satisfies RunnerMessage),
    );
  }

  // Known gap: if the connection drops after the control plane stored the new key but before
  // `key-rotated` arrives, the runner keeps its old key and is refused from then on; re-enroll it.
  // Keeping the pending key on disk and trying it after a refused hello would close this.
  private async adoptNewKey(acceptedFingerprint: string): Promise<void> {
    const { identity, logger } = this.options;
    const pair = this.pendingKey;
    this.pendingKey = undefined;
    if (!pair || fingerprint(pair.publicKey) !== acceptedFingerprint) {
      logger.error(
        { acceptedFingerprint },
        'the control plane accepted a key this runner did not send',
      );
      return;
    }
    try {
      await rotateIdentityKey(identity, pair);
      logger.info({ fingerprint: acceptedFingerprint }, 'runner key rotated');
      this.emit('keyRotated', acceptedFingerprint);
    } catch (error) {
      logger.error(
        { err: error, fingerprint: acceptedFingerprint },
        'the new key is in use but the identity file could not be rewritten; a restart will be ' +
          'refused until the runner is enrolled again',
      );
    }
  }

  private sshField(): { ssh?: RunnerSsh } {
    const ssh = this.options.ssh?.();
    return ssh ? { ssh } : {};
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
    this.pendingKey = undefined;
    this.failPendingSsh('the control plane connection closed');
    if (wasConnected) this.emit('disconnected');
    if (this.state === 'closed') return;
    if (code === runnerDisabledCloseCode) {
      this.options.logger.error(
        { code, reason },
        'this runner is disabled on the control plane; it keeps retrying until it is enabled',
      );
    }
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
