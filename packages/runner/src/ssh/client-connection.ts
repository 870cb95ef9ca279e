import type { Socket } from 'node:net';
import type { AuthContext, ClientInfo, Connection } from 'ssh2';
import { newId } from '@hangar/api';
import type { Logger } from '../logger.js';
import type { SessionHandle, SessionOutcome } from '../sessions/registry.js';
import { ConnectionAuthenticator, type AuthAttempt, type SshGrant } from './auth.js';
import type { ChannelContext } from './channel-context.js';
import type { SshDeps } from './deps.js';
import { serveSession } from './session-channel.js';
import { forwardTcp } from './tcpip-channel.js';

export interface ConnectionLimits {
  /** How long a client may take to log in, as sshd's `LoginGraceTime`. */
  loginGraceMs: number;
  /** Channels open at once on one connection: sessions and port forwards. */
  maxChannels: number;
  /** After asking a client to go, how long before its socket is cut. */
  closeGraceMs: number;
}

export const defaultConnectionLimits: ConnectionLimits = {
  loginGraceMs: 30_000,
  maxChannels: 256,
  closeGraceMs: 2000,
};

/** One client connection, for the server to end on shutdown. */
export interface ServedConnection {
  end(reason: string): void;
}

/**
 * One SSH client from its first byte to its close. It logs in with a public key (see
 * {@link ConnectionAuthenticator}); the login opens a session of kind `ssh` in the registry
 * (refused when its audit record cannot be written), which counts every byte of every channel
 * and can be ended from outside (a revoke, the environment stopping): the client is
 * disconnected and its socket cut shortly after. Remote forwarding (`ssh -R`) and Unix socket
 * forwarding are refused.
 */
export function serveConnection(
  deps: SshDeps,
  client: Connection,
  info: ClientInfo,
  limits: ConnectionLimits,
): ServedConnection {
  return new ClientConnection(deps, client, info.ip, limits);
}

class ClientConnection implements ServedConnection {
  private readonly requestId = newId('req');
  private readonly log: Logger;
  private readonly authenticator: ConnectionAuthenticator;
  private readonly loginTimer: NodeJS.Timeout;
  private session: SessionHandle | undefined;
  private closed = false;
  private ending: { reason: string; outcome: SessionOutcome } | undefined;
  private channels = 0;

  constructor(
    private readonly deps: SshDeps,
    private readonly client: Connection,
    private readonly sourceAddress: string,
    private readonly limits: ConnectionLimits,
  ) {
    this.log = deps.logger.child({ component: 'ssh', requestId: this.requestId });
    this.authenticator = new ConnectionAuthenticator(deps, {
      sourceAddress,
      requestId: this.requestId,
    });
    this.loginTimer = setTimeout(
      () => this.end('no login within the grace time'),
      limits.loginGraceMs,
    );
    this.loginTimer.unref();
    // Requests and answers are small packets: Nagle's algorithm against the client's delayed
    // acknowledgements would hold each exchange back by up to 40 ms.
    socketOf(client)?.setNoDelay(true);
    client.on('authentication', (ctx) => {
      this.authenticate(ctx).catch((error: unknown) => {
        this.log.error({ err: error }, 'ssh authentication failed');
        ctx.reject(['publickey']);
      });
    });
    client.on('error', (error: Error & { level?: string }) => {
      this.log.debug({ err: error.message, level: error.level }, 'ssh connection error');
      this.ending ??= { reason: error.message.slice(0, 200), outcome: 'failure' };
    });
    client.on('close', () => this.onClose());
  }

  /** Asks the client to go, and cuts its socket if it has not gone after the grace time. */
  end(reason: string, outcome: SessionOutcome = 'success'): void {
    if (this.closed) return;
    this.ending ??= { reason, outcome };
    this.log.info({ reason }, 'ending ssh connection');
    this.client.end();
    const socket = socketOf(this.client);
    setTimeout(() => socket?.destroy(), this.limits.closeGraceMs).unref();
  }

  private async authenticate(ctx: AuthContext): Promise<void> {
    const decision = await this.authenticator.decide(attemptOf(ctx));
    if (decision.kind === 'key-acceptable') return ctx.accept();
    if (decision.kind === 'reject') {
      ctx.reject(['publickey']);
      if (this.authenticator.exhausted) this.end('too many keys offered', 'denied');
      return;
    }
    const { grant } = decision;
    let opened: SessionHandle;
    try {
      opened = await this.deps.sessions.open({
        kind: 'ssh',
        environmentId: grant.environmentId,
        actor: grant.claims.act,
        grant: grant.claims.jti,
        requestId: this.requestId,
        sourceAddress: this.sourceAddress,
        details: { keyFingerprint: grant.fingerprint, keyType: grant.keyType },
        close: (reason) => this.end(reason, 'denied'),
      });
    } catch (error) {
      this.log.error({ err: error }, 'an ssh session could not be audited; login refused');
      ctx.reject(['publickey']);
      return;
    }
    if (this.closed) {
      await opened.end('failure', 'the client left while logging in');
      return;
    }
    this.session = opened;
    clearTimeout(this.loginTimer);
    this.serveChannels(grant, opened);
    const { environmentId, fingerprint } = grant;
    this.log.info({ environmentId, fingerprint, session: opened.id }, 'ssh login');
    ctx.accept();
  }

  /** After login: sessions and port forwards, each counted against the channel limit. */
  private serveChannels(grant: SshGrant, opened: SessionHandle): void {
    const context: ChannelContext = {
      deps: this.deps,
      grant,
      session: opened,
      requestId: this.requestId,
      sourceAddress: this.sourceAddress,
      log: this.log.child({ environmentId: grant.environmentId, session: opened.id }),
    };
    const release = () => {
      this.channels -= 1;
    };
    this.client.on('session', (accept, reject) => {
      if (!this.claimChannel()) return reject();
      const channel = accept();
      channel.once('close', release);
      serveSession(context, channel);
    });
    this.client.on('tcpip', (accept, reject, request) => {
      if (!this.claimChannel()) return reject();
      const claimed = () => {
        const channel = accept();
        channel.once('close', release);
        return channel;
      };
      const refused = () => {
        release();
        reject();
      };
      void forwardTcp(context, claimed, refused, request);
    });
    this.client.on('request', (_accept, reject, name) => {
      this.log.debug({ request: name }, 'ssh global request refused');
      reject?.();
    });
  }

  private claimChannel(): boolean {
    if (this.channels >= this.limits.maxChannels) return false;
    this.channels += 1;
    return true;
  }

  private onClose(): void {
    this.closed = true;
    clearTimeout(this.loginTimer);
    const { reason, outcome } = this.ending ?? {
      reason: 'the client disconnected',
      outcome: 'success',
    };
    void this.session?.end(outcome, reason);
  }
}

/** ssh2 keeps a connection's socket to itself; the runner needs it for no-delay and cut-off. */
function socketOf(client: Connection): Socket | undefined {
  return (client as unknown as { _sock?: Socket })._sock;
}

/** What the authenticator needs from ssh2's context: the method and, for a key, its parts. */
function attemptOf(ctx: AuthContext): AuthAttempt {
  const attempt: AuthAttempt = { method: ctx.method, username: ctx.username };
  if (ctx.method !== 'publickey') return attempt;
  attempt.key = ctx.key;
  if (ctx.signature) attempt.signature = ctx.signature;
  if (ctx.blob) attempt.blob = ctx.blob;
  if (ctx.hashAlgo) attempt.hashAlgo = ctx.hashAlgo;
  return attempt;
}
