import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { pino, type Logger } from 'pino';
import type { AccessOperation, Environment, ExecResult } from '@hangar/api';
import {
  bootstrapOwner,
  createRunner,
  startControlPlane,
  type ControlPlane,
} from '@hangar/control-plane';
import { startRunner, type RunningRunner } from '@hangar/runner';

export interface System {
  dir: string;
  cp: ControlPlane;
  runner: RunningRunner;
  token: string;
  orgId: string;
  api<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }>;
  createAndWait(body: Record<string, unknown>, phase?: string): Promise<Environment>;
  waitFor(id: string, phase: string): Promise<Environment>;
  grant(id: string, operations: AccessOperation[]): Promise<{ token: string; gatewayUrl: string }>;
  exec(
    id: string,
    command: string[],
    extra?: Record<string, unknown>,
  ): Promise<ExecResult & { out: Buffer; err: Buffer }>;
  restartControlPlane(): Promise<void>;
  stopControlPlane(): Promise<void>;
  startControlPlaneAgain(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A control plane and a runner with real bubblewrap sandboxes, in this process, on loopback
 * ports; the runner enrolled with a real enrollment token. For tests across the packages.
 */
export async function startSystem(
  options: {
    logger?: Logger;
    runnerConfig?: Record<string, unknown>;
    /** Where the runner dials instead of the control plane itself, e.g. a recording proxy. */
    runnerRoute?: (controlPlaneUrl: string) => Promise<string>;
  } = {},
): Promise<System> {
  const dir = await mkdtemp(join(tmpdir(), 'hangar-system-'));
  await chmod(dir, 0o711);
  const logger = options.logger ?? pino({ level: 'silent' });
  const cpDir = join(dir, 'control-plane');
  let cp = await startControlPlane(
    { dataDir: cpDir, port: 0, heartbeatIntervalMs: 500 },
    { logger },
  );
  const port = Number(new URL(cp.url).port);
  const owner = await bootstrapOwner(cp.context, { orgName: 'test', tokenTtlS: 3600 });
  const principal = {
    kind: 'user' as const,
    userId: owner.userId,
    orgId: owner.orgId,
    role: 'owner' as const,
    scopes: ['runners:admin' as const],
    tokenId: 'bootstrap',
    tokenExpiresAt: owner.tokenExpiresAt,
  };
  const made = await createRunner(cp.context, principal, 'local', {
    requestId: 'test',
    sourceAddress: '127.0.0.1',
  });
  const runner = await startRunner(
    {
      controlPlaneUrl: options.runnerRoute ? await options.runnerRoute(cp.url) : cp.url,
      enrollmentToken: made.enrollmentToken,
      dataDir: join(dir, 'runner'),
      gatewayPort: 0,
      stopEnvironmentsOnExit: true,
      localRepositoryRoots: [dir, tmpdir()],
      ...options.runnerConfig,
    },
    { logger },
  );
  const api: System['api'] = async (method, path, body) => {
    const response = await fetch(`${cp.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${owner.token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as never };
  };
  const waitFor: System['waitFor'] = async (id, phase) => {
    let version = 0;
    for (let i = 0; i < 200; i += 1) {
      const { body } = await api<Environment>(
        'GET',
        `/v1/environments/${id}?afterVersion=${version}&waitMs=5000`,
      );
      if (body.status.phase === phase) return body;
      const current = body.status.observedGeneration === body.generation;
      if (body.status.phase === 'failed' && phase !== 'failed' && current) {
        throw new Error(`environment failed: ${JSON.stringify(body.status.failure)}`);
      }
      version = body.statusVersion;
    }
    throw new Error(`environment ${id} never reached ${phase}`);
  };
  await waitForRunner(api);
  const system: System = {
    dir,
    get cp() {
      return cp;
    },
    runner,
    token: owner.token,
    orgId: owner.orgId,
    api,
    waitFor,
    async createAndWait(body, phase = 'running') {
      const created = await api<Environment>('POST', '/v1/environments', body);
      if (created.status !== 201) throw new Error(`create: ${JSON.stringify(created.body)}`);
      return waitFor(created.body.id, phase);
    },
    async grant(id, operations) {
      const { status, body } = await api<{ token: string; gatewayUrl: string }>(
        'POST',
        `/v1/environments/${id}/access`,
        { operations },
      );
      if (status !== 201) throw new Error(`grant: ${JSON.stringify(body)}`);
      return body;
    },
    async exec(id, command, extra = {}) {
      const grant = await system.grant(id, ['exec']);
      return execWith(grant, id, command, extra);
    },
    async stopControlPlane() {
      await cp.close();
    },
    async startControlPlaneAgain() {
      cp = await startControlPlane({ dataDir: cpDir, port, heartbeatIntervalMs: 500 }, { logger });
    },
    async restartControlPlane() {
      await system.stopControlPlane();
      await system.startControlPlaneAgain();
    },
    async close() {
      await runner.close();
      await cp.close().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
  return system;
}

async function waitForRunner(api: System['api']): Promise<void> {
  for (let i = 0; i < 100; i += 1) {
    const { body } = await api<{ runners: { state: string }[] }>('GET', '/v1/runners');
    if (body.runners.some((runner) => runner.state === 'online')) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the runner never came online');
}

/** Runs a command through the gateway's HTTP exec with a grant already in hand. */
export async function execWith(
  grant: { token: string; gatewayUrl: string },
  id: string,
  command: string[],
  extra: Record<string, unknown> = {},
) {
  const response = await fetch(`${grant.gatewayUrl}/v1/environments/${id}/exec`, {
    method: 'POST',
    headers: { authorization: `Bearer ${grant.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ command, ...extra }),
  });
  const body = (await response.json()) as ExecResult & { code?: string; message?: string };
  if (response.status !== 200)
    throw Object.assign(new Error(`exec ${response.status}: ${body.message}`), {
      body,
      status: response.status,
    });
  return {
    ...body,
    out: Buffer.from(body.stdout, 'base64'),
    err: Buffer.from(body.stderr, 'base64'),
  };
}

/** Runs a command over the gateway's exec WebSocket, collecting stdout and stderr frames. */
export function execStream(
  grant: { token: string; gatewayUrl: string },
  id: string,
  start: Record<string, unknown>,
  stdin?: Buffer,
): Promise<{ out: Buffer; err: Buffer; exit: Record<string, unknown> }> {
  const url = `${grant.gatewayUrl.replace(/^http/, 'ws')}/v1/environments/${id}/exec/stream`;
  const socket = new WebSocket(url, { headers: { authorization: `Bearer ${grant.token}` } });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  return new Promise((resolve, reject) => {
    socket.on('open', () => {
      socket.send(JSON.stringify({ ...start, stdin: stdin !== undefined }));
      if (stdin) {
        socket.send(Buffer.concat([Buffer.from([0]), stdin]));
        socket.send(JSON.stringify({ type: 'stdin-end' }));
      }
    });
    socket.on('message', (data, isBinary) => {
      const bytes = data as Buffer;
      if (isBinary) (bytes[0] === 1 ? out : err).push(bytes.subarray(1));
      else {
        const message = JSON.parse(bytes.toString()) as Record<string, unknown>;
        if (message.type === 'exit')
          resolve({ out: Buffer.concat(out), err: Buffer.concat(err), exit: message });
        else reject(new Error(JSON.stringify(message)));
      }
    });
    socket.on('unexpected-response', (_request, response) =>
      reject(new Error(`upgrade refused ${response.statusCode}`)),
    );
    socket.on('error', reject);
  });
}
