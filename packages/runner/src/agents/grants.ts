import { HangarError, newId, type RunnerMessage, type ServerMessage } from '@hangar/api';

type GrantAnswer = Extract<ServerMessage, { type: 'agent-grant' }>;

/** What grant requests need of the control plane connection. */
export interface GrantConnection {
  send(message: RunnerMessage): boolean;
  on(event: 'agentGrant', listener: (answer: GrantAnswer) => void): unknown;
}

export interface Grant {
  token: string;
  expiresAtMs: number;
}

/** How long a grant request may wait for the control plane. */
const answerTimeoutMs = 10_000;

/**
 * Asks the control plane for agent grants (`agent-grant-request`) and matches its answers
 * (`agent-grant`) to the requests by id.
 */
export class AgentGrants {
  private readonly pending = new Map<
    string,
    { resolve: (grant: Grant) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }
  >();

  constructor(private readonly connection: GrantConnection) {
    connection.on('agentGrant', (answer) => this.settle(answer));
  }

  request(taskId: string): Promise<Grant> {
    const requestId = newId('req');
    if (!this.connection.send({ type: 'agent-grant-request', requestId, taskId })) {
      return Promise.reject(
        new HangarError(
          'runner_unavailable',
          'the control plane is not connected, so the agent has no grant for the environment; ' +
            'it can go on once the runner reconnects',
        ),
      );
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(
          new HangarError(
            'runner_unavailable',
            `the control plane did not answer the agent grant request within ${answerTimeoutMs} ms`,
          ),
        );
      }, answerTimeoutMs);
      timer.unref();
      this.pending.set(requestId, { resolve, reject, timer });
    });
  }

  private settle(answer: GrantAnswer): void {
    const pending = this.pending.get(answer.requestId);
    if (!pending) return;
    this.pending.delete(answer.requestId);
    clearTimeout(pending.timer);
    if (answer.ok) {
      pending.resolve({ token: answer.token, expiresAtMs: Date.parse(answer.expiresAt) });
    } else {
      pending.reject(
        new HangarError(
          'forbidden',
          `the control plane refused the agent a grant: ${answer.message}`,
        ),
      );
    }
  }
}

/**
 * One task's grant: asked for when first needed, and again once less than a third of its life
 * (at most 60 s) is left. While a refresh fails, a grant that has not expired is still used.
 */
export class TaskGrant {
  private current: (Grant & { issuedAtMs: number }) | undefined;
  private inflight: Promise<Grant> | undefined;

  constructor(
    private readonly grants: Pick<AgentGrants, 'request'>,
    private readonly taskId: string,
    private readonly now: () => number = Date.now,
  ) {}

  async token(options: { fresh?: boolean } = {}): Promise<string> {
    const current = this.current;
    const now = this.now();
    if (current && !options.fresh) {
      const margin = Math.min(60_000, (current.expiresAtMs - current.issuedAtMs) / 3);
      if (current.expiresAtMs - now > margin) return current.token;
    }
    try {
      const grant = await (this.inflight ??= this.grants.request(this.taskId));
      this.current = { ...grant, issuedAtMs: now };
      return grant.token;
    } catch (error) {
      if (current && current.expiresAtMs - this.now() > 1000 && !options.fresh)
        return current.token;
      throw error;
    } finally {
      this.inflight = undefined;
    }
  }
}
