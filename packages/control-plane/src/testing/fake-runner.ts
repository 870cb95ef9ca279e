import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import {
  generateEd25519,
  generateX25519,
  openSecret,
  publicKeyObject,
  privateKeyObject,
  runnerChallengeMessage,
  runnerProtocolVersion,
  runnerRotateKeyMessage,
  signBytes,
  type DesiredEnvironment,
  type DesiredSecret,
  type EnvironmentStatus,
  type RunnerClass,
  type RunnerMessage,
  type RunnerSsh,
  type ServerMessage,
} from '@hangar/api';

/**
 * A runner peer that speaks the real protocol over a real WebSocket, for control plane tests
 * that need a runner without sandboxes: it enrolls, answers the challenge, and records what the
 * control plane sends.
 */
export class ProtocolRunner {
  keys = generateEd25519();
  /** The X25519 key pair secrets are sealed to; its public half goes in every hello. */
  encryption = generateX25519();
  runnerId = '';
  socket: WebSocket | undefined;
  readonly received: ServerMessage[] = [];
  private waiters: (() => void)[] = [];

  constructor(private readonly url: string) {}

  /**
   * Opens a delivered secret as a runner does: the binding rebuilt from the metadata it was sent
   * with, opened with this runner's own key.
   */
  open(environment: DesiredEnvironment, secret: DesiredSecret) {
    return openSecret({
      envelope: secret.envelope,
      binding: {
        orgId: environment.orgId,
        scope: secret.scope,
        scopeId: secret.scopeId,
        name: secret.name,
        version: secret.version,
        delivery: secret.delivery,
        target: secret.target,
        runnerId: this.runnerId,
        authorId: secret.authorId,
      },
      runnerPrivateKey: this.encryption.privateKey,
      runnerPublicKey: this.encryption.publicKey,
      authorVerifyKey: publicKeyObject(secret.authorVerifyKey),
    });
  }

  async enroll(enrollmentToken: string): Promise<Response> {
    const response = await fetch(`${this.url}/v1/runners/enroll`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ enrollmentToken, publicKey: this.keys.publicKey }),
    });
    if (response.ok)
      this.runnerId = ((await response.clone().json()) as { runnerId: string }).runnerId;
    return response;
  }

  /** Connects and resolves with the welcome, or rejects when the socket closes first. */
  connect(
    options: {
      signWith?: string;
      classes?: RunnerClass[];
      ssh?: RunnerSsh;
      /** The encryption key to publish; the runner's own by default, null for none. */
      encryptionKey?: string | null;
    } = {},
  ): Promise<ServerMessage> {
    const url = `${this.url.replace(/^http/, 'ws')}/v1/runners/connect`;
    const socket = new WebSocket(url);
    this.socket = socket;
    return new Promise((resolve, reject) => {
      socket.on('message', (data: Buffer) => {
        const message = JSON.parse(data.toString('utf8')) as ServerMessage;
        this.received.push(message);
        for (const wake of this.waiters.splice(0)) wake();
        if (message.type === 'challenge') {
          const key = privateKeyObject(options.signWith ?? this.keys.privateKey);
          this.send({
            type: 'hello',
            protocolVersion: runnerProtocolVersion,
            runnerId: this.runnerId,
            signature: signBytes(key, runnerChallengeMessage(message.nonce, this.runnerId)),
            nonce: randomBytes(32).toString('base64url'),
            gatewayUrl: 'http://127.0.0.1:1',
            classes: options.classes ?? [{ name: 'small', cpu: 1, memoryMiB: 512, pids: 256 }],
            ...(options.ssh ? { ssh: options.ssh } : {}),
            ...(options.encryptionKey === null
              ? {}
              : { encryptionKey: options.encryptionKey ?? this.encryption.publicKey }),
          });
        }
        if (message.type === 'welcome') resolve(message);
      });
      socket.on('close', (code, reason) =>
        reject(new Error(`closed ${code} ${reason.toString()}`)),
      );
      socket.on('error', reject);
    });
  }

  send(message: RunnerMessage | Record<string, unknown>): void {
    this.socket?.send(JSON.stringify(message));
  }

  reportStatus(
    environmentId: string,
    status: Partial<EnvironmentStatus> & { phase: EnvironmentStatus['phase'] },
    generation: number,
  ) {
    this.send({
      type: 'status',
      environmentId,
      status: {
        observedGeneration: generation,
        conditions: [],
        steps: [],
        phaseChangedAt: new Date().toISOString(),
        ...status,
      },
    });
  }

  /** Waits until a message matching `predicate` has arrived. */
  async waitFor<T extends ServerMessage>(
    predicate: (message: ServerMessage) => boolean,
  ): Promise<T> {
    for (;;) {
      const found = this.received.find(predicate);
      if (found) return found as T;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Sends an ssh-authorize and waits for the answer with the same request id. */
  async authorizeSsh(request: {
    username: string;
    publicKey: string;
    keyType?: string;
    sourceAddress?: string;
  }): Promise<ServerMessage & { type: 'ssh-authorization' }> {
    const requestId = `req_${randomBytes(8).toString('hex')}`;
    this.send({
      type: 'ssh-authorize',
      requestId,
      keyType: request.keyType ?? 'ssh-ed25519',
      sourceAddress: request.sourceAddress ?? '192.0.2.7',
      username: request.username,
      publicKey: request.publicKey,
    });
    return this.waitFor<ServerMessage & { type: 'ssh-authorization' }>(
      (message) => message.type === 'ssh-authorization' && message.requestId === requestId,
    );
  }

  /**
   * Sends `rotate-key` with a fresh key pair, proved over this connection's challenge (or signed
   * by `proveWith` instead), and waits for `key-rotated` or an error. On success the new pair
   * becomes `keys`; the old one is returned for tests that try it again.
   */
  async rotateKey(options: { proveWith?: string } = {}): Promise<{
    answer: ServerMessage;
    oldKeys: ReturnType<typeof generateEd25519>;
  }> {
    const challenge = this.received.findLast((message) => message.type === 'challenge');
    if (challenge?.type !== 'challenge') throw new Error('no challenge on this connection');
    const next = generateEd25519();
    const signed = runnerRotateKeyMessage({
      runnerId: this.runnerId,
      serverNonce: challenge.nonce,
    });
    const before = this.received.length;
    this.send({
      type: 'rotate-key',
      publicKey: next.publicKey,
      proof: signBytes(privateKeyObject(options.proveWith ?? next.privateKey), signed),
    });
    const answer = await this.waitFor(
      (message) =>
        this.received.indexOf(message) >= before &&
        (message.type === 'key-rotated' || message.type === 'error'),
    );
    const oldKeys = this.keys;
    if (answer.type === 'key-rotated') this.keys = next;
    return { answer, oldKeys };
  }

  desired(id: string): DesiredEnvironment | undefined {
    const pushes = this.received.flatMap((message) =>
      message.type === 'environment'
        ? [message.environment]
        : message.type === 'welcome'
          ? message.environments
          : [],
    );
    return pushes.filter((environment) => environment.id === id).at(-1);
  }

  close(): void {
    this.socket?.close();
  }
}
