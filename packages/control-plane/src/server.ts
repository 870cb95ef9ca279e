import type { AddressInfo } from 'node:net';
import { AuditLog } from './audit/audit-log.js';
import { buildApp } from './app.js';
import { resolveControlPlaneConfig, type ControlPlaneConfig } from './config.js';
import type { Context } from './context.js';
import { createLogger, type Logger } from './logger.js';
import { RunnerHub } from './runner-hub/hub.js';
import { startPolicySweeper } from './services/policy-sweeper.js';
import { failAbandonedOperations } from './services/runner-sync.js';
import { StatusChanges } from './services/status-changes.js';
import { loadOrCreateSigningKey } from './signing-key.js';
import { loadOrCreateDataKey } from './oidc/data-key.js';
import { openDatabase } from './storage/open.js';
import { join } from 'node:path';

export interface ControlPlane {
  url: string;
  /** Where it listens, which differs from `url` behind a proxy with another public URL. */
  listenUrl: string;
  context: Context;
  routes: Awaited<ReturnType<typeof buildApp>>['routes'];
  close(): Promise<void>;
}

/** Opens storage, applies migrations, and serves the API until `close`. */
export async function startControlPlane(
  input: Partial<ControlPlaneConfig> & { dataDir: string },
  options: { logger?: Logger } = {},
): Promise<ControlPlane> {
  const config = resolveControlPlaneConfig(input);
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const databaseUrl = config.databaseUrl ?? `sqlite:${join(config.dataDir, 'control-plane.db')}`;
  const db = await openDatabase({ url: databaseUrl });
  const signingKey = await loadOrCreateSigningKey(config.dataDir);
  const dataKey = await loadOrCreateDataKey(config.dataDir);
  const audit = new AuditLog({
    db,
    signingKey: signingKey.privateKey,
    checkpointEvery: config.auditCheckpointEvery,
    anchorPath: join(config.dataDir, 'audit-anchors.jsonl'),
    logger: logger.child({ component: 'audit' }),
  });
  const hub = new RunnerHub(logger.child({ component: 'runner-hub' }));
  const context: Context = {
    config,
    db,
    audit,
    signingKey,
    dataKey,
    logger,
    runners: hub,
    statusChanges: new StatusChanges(),
  };
  hub.attach(context);
  const { app, routes } = await buildApp(context, hub);
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    await hub.close();
    await app.close();
    await db.close();
    throw error;
  }
  const address = app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const listenUrl = `http://${host}:${address.port}`;
  const url = config.publicUrl ?? listenUrl;
  const sweeper = setInterval(
    () => {
      failAbandonedOperations(context).catch((error: unknown) =>
        logger.error({ err: error }, 'sweeping abandoned operations failed'),
      );
    },
    Math.min(5000, Math.max(250, Math.floor(config.operationTimeoutMs / 4))),
  );
  sweeper.unref();
  const policySweeper = startPolicySweeper(context, config.policySweepIntervalMs);
  logger.info({ url, database: db.kind }, 'control plane listening');
  return {
    url,
    listenUrl,
    context,
    routes,
    async close() {
      clearInterval(sweeper);
      await policySweeper.stop();
      await hub.close();
      await app.close();
      await db.close();
    },
  };
}
