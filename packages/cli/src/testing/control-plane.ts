import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bootstrapOwner,
  createLogger,
  startControlPlane,
  type ControlPlane,
} from '@hangar/control-plane';

export interface TestControlPlane {
  cp: ControlPlane;
  url: string;
  dataDir: string;
  token: string;
  orgId: string;
  userId: string;
  /** HANGAR_URL and HANGAR_TOKEN for the owner, to pass as a captured Io's env. */
  env: Record<string, string>;
  close(): Promise<void>;
}

/** A real control plane on 127.0.0.1:0, SQLite in a fresh temporary directory, and its owner. */
export async function startTestControlPlane(
  options: { operationTimeoutMs?: number } = {},
): Promise<TestControlPlane> {
  const dataDir = await mkdtemp(join(tmpdir(), 'hangar-cli-cp-'));
  const cp = await startControlPlane(
    {
      dataDir,
      port: 0,
      logLevel: 'silent',
      // As `hangar up` does: the OIDC command tests use a provider on loopback.
      oidcAllowHttpLoopbackIssuers: true,
      ...(options.operationTimeoutMs ? { operationTimeoutMs: options.operationTimeoutMs } : {}),
    },
    { logger: createLogger({ level: 'silent' }) },
  );
  const owner = await bootstrapOwner(cp.context, { orgName: 'test', tokenTtlS: 86400 });
  return {
    cp,
    url: cp.url,
    dataDir,
    token: owner.token,
    orgId: owner.orgId,
    userId: owner.userId,
    env: { HANGAR_URL: cp.url, HANGAR_TOKEN: owner.token },
    async close() {
      await cp.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
