import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { startControlPlane, type ControlPlane } from '../server.js';
import { bootstrapOwner } from '../services/bootstrap.js';
import type { TestBackend } from '../storage/testing.js';
import type { ControlPlaneConfig } from '../config.js';

export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
  requestId: string;
}

export interface TestControlPlane {
  cp: ControlPlane;
  url: string;
  dataDir: string;
  owner: { token: string; orgId: string; userId: string };
  request<T = Record<string, unknown>>(
    method: string,
    path: string,
    options?: { token?: string | null; body?: unknown },
  ): Promise<ApiResponse<T>>;
  close(): Promise<void>;
}

/**
 * A real control plane on 127.0.0.1:0 with its own data directory and a fresh database of the
 * given backend, plus an owner token, for tests of the HTTP API.
 */
export async function startTestControlPlane(
  backend: TestBackend,
  config: Partial<ControlPlaneConfig> = {},
  options: { logger?: Logger } = {},
): Promise<TestControlPlane> {
  const dataDir = await mkdtemp(join(tmpdir(), 'hangar-cp-'));
  const database = await backend.create();
  const cp = await startControlPlane(
    { dataDir, port: 0, databaseUrl: database.url, logLevel: 'silent', ...config },
    { logger: options.logger ?? pino({ level: 'silent' }) },
  );
  const owner = await bootstrapOwner(cp.context, { orgName: 'test', tokenTtlS: 3600 });
  const request: TestControlPlane['request'] = async (method, path, options = {}) => {
    const token = options.token === undefined ? owner.token : options.token;
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${cp.url}${path}`, {
      method,
      headers,
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    });
    const text = await response.text();
    const body = text ? (JSON.parse(text) as never) : (undefined as never);
    return { status: response.status, body, requestId: response.headers.get('x-request-id') ?? '' };
  };
  return {
    cp,
    url: cp.url,
    dataDir,
    owner: { token: owner.token, orgId: owner.orgId, userId: owner.userId },
    request,
    async close() {
      await cp.close();
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
