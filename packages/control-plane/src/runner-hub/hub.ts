import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';
import {
  RunnerMessage,
  controlPlaneWelcomeMessage,
  signBytes,
  publicKeyObject,
  runnerChallengeMessage,
  runnerDisabledCloseCode,
  runnerProtocolVersion,
  runnerReplacedCloseCode,
  validator,
  verifyBytes,
  type DesiredAgentTask,
  type DesiredEnvironment,
  type RevokeMessage,
  type ServerMessage,
  type SshAuthorizeMessage,
} from '@hangar/api';
import type { Context, RunnerNotifier } from '../context.js';
import type { Logger } from '../logger.js';
import { ingestActivity } from '../services/activity.js';
import { desiredAgentTasksFor } from '../services/agent-tasks.js';
import {
  completeKeyRotation,
  keyRotationPending,
  recordConnectRefusal,
  type RunnerConnections,
} from '../services/runner-trust.js';
import { checkEncryptionKey, storeEncryptionKey } from '../services/runner-encryption-key.js';
import { runnerById, type RunnerRow } from '../services/runners.js';
import { authorizeSsh, refused } from '../ssh/authorize.js';
import { checkRunnerSsh } from '../ssh/runner-ssh.js';
import { AgentMessages } from './agent-messages.js';
import {
  applyStatus,
  desiredFor,
  ingestRunnerAudit,
  markRunnerConnected,
  markRunnerDisconnected,
  markRunnerSeen,
} from '../services/runner-sync.js';

const checkMessage = validator(RunnerMessage, 'runner message');
const helloTimeoutMs = 10000;
const maxMessageBytes = 4 * 1024 * 1024;
/** SSH logins one runner connection may have waiting for an answer at once. */
export const maxOutstandingSshAuthorizations = 20;
/** Revokes kept for one disconnected runner until it connects again. */
const maxHeldRevokes = 100;

interface Session {
  runnerId: string;
  orgId: string;
  socket: WebSocket;
  /** The challenge of this connection, which a key rotation proof signs. */
  serverNonce: string;
  sourceAddress: string;
  lastMessageAt: number;
  sshOutstanding: number;
}

/**
 * The control plane's end of every runner's outbound WebSocket. A runner proves itself by signing
 * a fresh nonce with its enrolled key; then it receives all its desired environments and, while
 * connected, every change. One session per runner: a newer one replaces the older.
 */
export class RunnerHub implements RunnerNotifier, RunnerConnections {
  private readonly sessions = new Map<string, Session>();
  private readonly heldRevokes = new Map<string, Omit<RevokeMessage, 'type'>[]>();
  private context: Context | undefined;
  private agents: AgentMessages | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(private readonly logger: Logger) {}

  attach(context: Context): void {
    this.context = context;
    this.agents = new AgentMessages(context);
    const interval = context.config.heartbeatIntervalMs;
    this.sweepTimer = setInterval(() => this.dropSilent(interval * 3), interval);
    this.sweepTimer.unref();
  }

  isConnected(runnerId: string): boolean {
    return this.sessions.has(runnerId);
  }

  push(runnerId: string, environment: DesiredEnvironment): void {
    const session = this.sessions.get(runnerId);
    if (session) send(session.socket, { type: 'environment', environment });
  }

  pushAgentTask(runnerId: string, task: DesiredAgentTask): void {
    const session = this.sessions.get(runnerId);
    if (session) send(session.socket, { type: 'agent-task', task });
  }

  /**
   * Sends a revoke now, or, to a runner that is not connected, on its next welcome: its live
   * sessions may outlast the outage. Kept in memory only (the newest `maxHeldRevokes`), so a
   * control plane restart forgets them.
   */
  revoke(runnerId: string, revoke: Omit<RevokeMessage, 'type'>): void {
    const session = this.sessions.get(runnerId);
    if (session) {
      send(session.socket, { type: 'revoke', ...revoke });
      return;
    }
    const held = this.heldRevokes.get(runnerId) ?? [];
    held.push(revoke);
    this.heldRevokes.set(runnerId, held.slice(-maxHeldRevokes));
  }

  disconnectDisabled(runnerId: string): void {
    const session = this.sessions.get(runnerId);
    if (!session) return;
    this.logger.info({ runnerId }, 'runner disabled; closing its connection');
    refuseDisabled(session.socket, runnerId);
  }

  requestKeyRotation(runnerId: string): void {
    const session = this.sessions.get(runnerId);
    if (session) send(session.socket, { type: 'rotate-key-request' });
  }

  async close(): Promise<void> {
    clearInterval(this.sweepTimer);
    for (const session of this.sessions.values())
      session.socket.close(1001, 'control plane stopping');
    const context = this.context;
    if (context) {
      await Promise.all([...this.sessions.keys()].map((id) => markRunnerDisconnected(context, id)));
    }
    this.sessions.clear();
  }

  /** Handles one new connection from its first frame to its close. */
  accept(socket: WebSocket, sourceAddress: string): void {
    const context = this.context;
    if (!context) throw new Error('RunnerHub.attach must be called before accept');
    const nonce = randomBytes(32).toString('base64url');
    const log = this.logger.child({ sourceAddress });
    let session: Session | undefined;
    // Messages are handled one after another, in the order the runner sent them.
    let queue: Promise<void> = Promise.resolve();
    const helloTimer = setTimeout(() => socket.close(4001, 'no hello in time'), helloTimeoutMs);
    send(socket, { type: 'challenge', nonce });

    socket.on('message', (data, isBinary) => {
      const size = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data.byteLength;
      if (isBinary || size > maxMessageBytes) {
        socket.close(4002, 'runner messages are JSON text frames under 4 MiB');
        return;
      }
      const text = Buffer.isBuffer(data)
        ? data.toString('utf8')
        : Buffer.from(data as ArrayBuffer).toString('utf8');
      queue = queue.then(() =>
        this.handle(context, socket, text, {
          nonce,
          sourceAddress,
          session: () => session,
          setSession: (value) => {
            clearTimeout(helloTimer);
            session = value;
          },
        }).catch((error: unknown) => {
          log.warn({ err: error, runnerId: session?.runnerId }, 'runner message refused');
          send(socket, { type: 'error', code: 'invalid_request', message: messageOf(error) });
          if (!session) socket.close(4003, 'hello refused');
        }),
      );
    });

    socket.on('close', () => {
      clearTimeout(helloTimer);
      if (!session || this.sessions.get(session.runnerId) !== session) return;
      this.sessions.delete(session.runnerId);
      const { runnerId, orgId } = session;
      log.info({ runnerId }, 'runner disconnected');
      void markRunnerDisconnected(context, runnerId)
        .then(() =>
          context.audit.record({
            orgId,
            actor: { kind: 'runner', id: runnerId },
            action: 'runner.disconnect',
            target: { kind: 'runner', id: runnerId },
            outcome: 'success',
            requestId: 'runner-connection',
            sourceAddress,
            details: {},
          }),
        )
        .catch((error: unknown) => log.error({ err: error, runnerId }, 'disconnect not recorded'));
    });
  }

  private async handle(
    context: Context,
    socket: WebSocket,
    text: string,
    state: {
      nonce: string;
      sourceAddress: string;
      session: () => Session | undefined;
      setSession: (session: Session) => void;
    },
  ): Promise<void> {
    const message = checkMessage(JSON.parse(text));
    const session = state.session();
    // A connection being closed (its runner disabled, replaced, dropped) gets nothing more done.
    if (socket.readyState !== socket.OPEN) return;
    if (!session) {
      if (message.type !== 'hello') throw new Error('the first message must be hello');
      state.setSession(await this.authenticate(context, socket, message, state));
      return;
    }
    session.lastMessageAt = Date.now();
    if (message.type === 'heartbeat') {
      await markRunnerSeen(context, session.runnerId);
    } else if (message.type === 'status') {
      await applyStatus(context, session.runnerId, message.environmentId, message.status);
    } else if (message.type === 'audit') {
      const acked = await ingestRunnerAudit(
        context,
        { id: session.runnerId, orgId: session.orgId },
        message.records,
      );
      send(socket, { type: 'audit-ack', upToLocalSeq: acked });
    } else if (message.type === 'ssh-authorize') {
      this.startSshAuthorization(context, session, message);
    } else if (message.type === 'activity') {
      await ingestActivity(context, session.runnerId, message.environments);
    } else if (message.type === 'rotate-key') {
      const rotated = await completeKeyRotation(context, {
        runner: { id: session.runnerId, orgId: session.orgId },
        publicKey: message.publicKey,
        proof: message.proof,
        serverNonce: session.serverNonce,
        sourceAddress: session.sourceAddress,
      });
      this.logger.info({ runnerId: session.runnerId, ...rotated }, 'runner key rotated');
      send(socket, { type: 'key-rotated', ...rotated });
    } else if (message.type === 'agent-status') {
      await this.agents?.applyStatus(runnerOf(session), message.report);
    } else if (message.type === 'agent-grant-request') {
      const answer = await this.agents?.answerGrant(runnerOf(session), message);
      if (answer) send(socket, answer);
    } else {
      throw new Error('hello was already received on this connection');
    }
  }

  /**
   * Answers an SSH login without holding up the runner's other messages. At most
   * `maxOutstandingSshAuthorizations` wait at once per connection; one more is refused at once,
   * without touching the database, so a runner cannot flood the control plane.
   */
  private startSshAuthorization(
    context: Context,
    session: Session,
    message: SshAuthorizeMessage,
  ): void {
    const runner = { id: session.runnerId, orgId: session.orgId };
    if (session.sshOutstanding >= maxOutstandingSshAuthorizations) {
      this.logger.warn({ runnerId: runner.id }, 'too many SSH authorizations in flight; refusing');
      const text =
        `this runner has ${maxOutstandingSshAuthorizations} SSH logins waiting for an ` +
        'answer already; try again shortly';
      send(session.socket, refused(message.requestId, 'runner_unavailable', text));
      return;
    }
    session.sshOutstanding += 1;
    void authorizeSsh(context, runner, message)
      .catch((error: unknown) => {
        this.logger.error({ err: error, runnerId: runner.id }, 'SSH authorization failed');
        return refused(message.requestId, 'internal', 'the control plane could not decide');
      })
      .then((answer) => {
        session.sshOutstanding -= 1;
        send(session.socket, answer);
      });
  }

  private async authenticate(
    context: Context,
    socket: WebSocket,
    hello: RunnerMessage & { type: 'hello' },
    state: { nonce: string; sourceAddress: string },
  ): Promise<Session> {
    if (hello.protocolVersion !== runnerProtocolVersion) {
      throw new Error(`protocol version ${hello.protocolVersion} is not ${runnerProtocolVersion}`);
    }
    const runner = await runnerById(context.db, hello.runnerId);
    const signed = runnerChallengeMessage(state.nonce, hello.runnerId);
    const valid =
      runner?.public_key != null &&
      verifyBytes(publicKeyObject(runner.public_key), signed, hello.signature);
    if (!runner || !valid) {
      await context.audit
        .record({
          orgId: runner?.org_id ?? 'system',
          actor: { kind: 'runner', id: hello.runnerId },
          action: 'runner.connect',
          target: { kind: 'runner', id: hello.runnerId },
          outcome: 'denied',
          requestId: 'runner-connection',
          sourceAddress: state.sourceAddress,
          details: { reason: runner ? 'bad signature' : 'unknown runner' },
        })
        .catch(() => undefined);
      throw new Error('runner authentication failed: unknown runner or bad signature');
    }
    if (runner.disabled_at !== null) {
      await this.refuseDisabledHello(context, runner, socket, state.sourceAddress);
    }
    const ssh = await this.publishedSsh(context, runner.id, runner.org_id, hello, state);
    await checkEncryptionKey(context, runner, hello.encryptionKey, state.sourceAddress);
    const previous = this.sessions.get(runner.id);
    const session: Session = {
      runnerId: runner.id,
      orgId: runner.org_id,
      socket,
      serverNonce: state.nonce,
      sourceAddress: state.sourceAddress,
      lastMessageAt: Date.now(),
      sshOutstanding: 0,
    };
    this.sessions.set(runner.id, session);
    previous?.socket.close(runnerReplacedCloseCode, 'replaced by a newer connection');
    // A disable that committed after the read above found no session to close; this one is.
    const current = await runnerById(context.db, runner.id);
    if (current?.disabled_at != null) {
      this.sessions.delete(runner.id);
      await this.refuseDisabledHello(context, runner, socket, state.sourceAddress);
    }
    await markRunnerConnected(context, runner, { ...hello, ssh });
    await storeEncryptionKey(context, runner, hello.encryptionKey);
    await context.audit.record({
      orgId: runner.org_id,
      actor: { kind: 'runner', id: runner.id },
      action: 'runner.connect',
      target: { kind: 'runner', id: runner.id },
      outcome: 'success',
      requestId: 'runner-connection',
      sourceAddress: state.sourceAddress,
      details: { gatewayUrl: hello.gatewayUrl, sshAddress: ssh?.address },
    });
    this.logger.info({ runnerId: runner.id }, 'runner connected');
    send(socket, {
      type: 'welcome',
      runnerId: runner.id,
      orgId: runner.org_id,
      controlPlanePublicKey: context.signingKey.publicKeyRaw,
      heartbeatIntervalMs: context.config.heartbeatIntervalMs,
      signature: signBytes(
        context.signingKey.privateKey,
        controlPlaneWelcomeMessage({
          runnerId: runner.id,
          runnerNonce: hello.nonce,
          serverNonce: state.nonce,
        }),
      ),
      auditAckedSeq: runner.audit_acked_seq,
      environments: await desiredFor(context, runner.id),
      agentTasks: await desiredAgentTasksFor(context, runner.id),
      ...(context.config.publicUrl
        ? { dashboardOrigin: new URL(context.config.publicUrl).origin }
        : {}),
    });
    for (const revoke of this.heldRevokes.get(runner.id) ?? []) {
      send(socket, { type: 'revoke', ...revoke });
    }
    this.heldRevokes.delete(runner.id);
    if (await keyRotationPending(context, runner.id)) send(socket, { type: 'rotate-key-request' });
    return session;
  }

  /** Audits the refused hello of a disabled runner, tells it why, and closes; always throws. */
  private async refuseDisabledHello(
    context: Context,
    runner: RunnerRow,
    socket: WebSocket,
    sourceAddress: string,
  ): Promise<never> {
    await recordConnectRefusal(context, runner, {
      outcome: 'denied',
      reason: 'runner disabled',
      sourceAddress,
    });
    refuseDisabled(socket, runner.id);
    throw new Error(`runner ${runner.id} is disabled`);
  }

  /** The SSH gateway the hello publishes, checked; a bad one refuses the hello, audited. */
  private async publishedSsh(
    context: Context,
    runnerId: string,
    orgId: string,
    hello: RunnerMessage & { type: 'hello' },
    state: { sourceAddress: string },
  ) {
    if (!hello.ssh) return undefined;
    try {
      return checkRunnerSsh(hello.ssh);
    } catch (error) {
      await context.audit
        .record({
          orgId,
          actor: { kind: 'runner', id: runnerId },
          action: 'runner.connect',
          target: { kind: 'runner', id: runnerId },
          outcome: 'failure',
          requestId: 'runner-connection',
          sourceAddress: state.sourceAddress,
          details: { reason: `the published SSH gateway is not valid: ${messageOf(error)}` },
        })
        .catch(() => undefined);
      throw error;
    }
  }

  private dropSilent(silentForMs: number): void {
    const cutoff = Date.now() - silentForMs;
    for (const session of this.sessions.values()) {
      if (session.lastMessageAt < cutoff) {
        this.logger.warn({ runnerId: session.runnerId }, 'runner missed heartbeats; dropping it');
        session.socket.terminate();
      }
    }
  }
}

function refuseDisabled(socket: WebSocket, runnerId: string): void {
  send(socket, {
    type: 'error',
    code: 'runner_disabled',
    message:
      `runner ${runnerId} is disabled; an owner, admin or runner-admin can enable it with ` +
      `\`hangar runner enable ${runnerId}\``,
  });
  socket.close(runnerDisabledCloseCode, 'runner disabled');
}

function runnerOf(session: Session) {
  return { id: session.runnerId, orgId: session.orgId, sourceAddress: session.sourceAddress };
}

function send(socket: WebSocket, message: ServerMessage): void {
  if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
