import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import {
  generateEd25519,
  privateKeyObject,
  publicKeyObject,
  signAccessToken,
  type AccessClaims,
  type AccessOperation,
  type DesiredEnvironment,
} from '@hangar/api';
import { pino } from 'pino';
import type { AuditDraft } from '../audit-queue.js';
import { noPortsConfig, type PortsConfig } from '../devcontainer/index.js';
import type { Provider } from '../providers/provider.js';
import { StateStore } from '../state-store.js';
import type { GatewayDeps } from './deps.js';
import { ActivityTracker } from '../sessions/activity.js';
import { SessionRegistry } from '../sessions/registry.js';

/**
 * What a test may change in a grant: who holds it (a user by `actorId`, or any `actor`), for
 * which org, port and runner.
 */
export type GrantOverrides = Partial<Pick<AccessClaims, 'org' | 'port' | 'aud'>> & {
  actorId?: string;
  actor?: AccessClaims['act'];
};

export const testOwnerId = 'usr_streamtest01';

/**
 * Gateway dependencies around a real provider, with the audit records kept in memory. The
 * environments the control plane would want go into `desired` (owner `testOwnerId`, the test
 * org); their devcontainer port settings into `portsConfigs`.
 */
export function gatewayDeps(
  provider: Provider,
  dataDir: string,
): {
  deps: GatewayDeps;
  audit: AuditDraft[];
  desired: Map<string, DesiredEnvironment>;
  portsConfigs: Map<string, PortsConfig>;
  orgId: string;
  grant(environmentId: string, ops: AccessOperation[], overrides?: GrantOverrides): string;
} {
  const controlPlane = generateEd25519();
  const runner = generateEd25519();
  const identity = {
    runnerId: 'run_streamtest01',
    orgId: 'org_streamtest01',
    controlPlaneUrl: 'http://127.0.0.1:9',
    controlPlanePublicKey: publicKeyObject(controlPlane.publicKey),
    controlPlanePublicKeyRaw: controlPlane.publicKey,
    privateKey: privateKeyObject(runner.privateKey),
  };
  const audit: AuditDraft[] = [];
  const auditSink = { append: async (draft: AuditDraft) => audit.push(draft) };
  const logger = pino({ level: 'silent' });
  const deps: GatewayDeps = {
    identity: () => identity,
    audit: auditSink,
    store: new StateStore(dataDir, undefined),
    logger,
    envd: (environmentId) => provider.connect(environmentId),
    logCommand: async () => undefined,
    remoteEnv: () => ({}),
    workspaceFolder: () => '/workspaces/repo',
    sessions: new SessionRegistry({ audit: auditSink, logger }),
    activity: new ActivityTracker(),
    desired: (environmentId) => desired.get(environmentId),
    portsConfig: (environmentId) => portsConfigs.get(environmentId) ?? noPortsConfig,
    terminalGraceMs: 60_000,
  };
  const desired = new Map<string, DesiredEnvironment>();
  const portsConfigs = new Map<string, PortsConfig>();
  const grant = (
    environmentId: string,
    ops: AccessOperation[],
    overrides: GrantOverrides = {},
  ): string => {
    const nowS = Math.floor(Date.now() / 1000);
    const { actorId, actor, ...rest } = overrides;
    const claims: AccessClaims = {
      iss: 'hangar' as const,
      aud: identity.runnerId,
      org: identity.orgId,
      env: environmentId,
      act: actor ?? { kind: 'user' as const, id: actorId ?? testOwnerId },
      ops,
      iat: nowS,
      exp: nowS + 300,
      jti: `grt_${randomBytes(8).toString('hex')}`,
      ...rest,
    };
    return signAccessToken(claims, privateKeyObject(controlPlane.privateKey));
  };
  return { deps, audit, desired, portsConfigs, orgId: identity.orgId, grant };
}

/** One masked text frame, as a client sends it. */
function clientTextFrame(text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const mask = randomBytes(4);
  const length =
    payload.length < 126
      ? Buffer.from([0x80 | payload.length])
      : Buffer.from([0x80 | 126, payload.length >> 8, payload.length & 0xff]);
  const masked = Buffer.from(payload.map((byte, index) => byte ^ (mask[index % 4] ?? 0)));
  return Buffer.concat([Buffer.from([0x81]), length, mask, masked]);
}

/**
 * A WebSocket client that starts an exec stream and then reads nothing: its TCP socket is
 * paused right after the upgrade, so the gateway's writes pile up on its side.
 */
export async function pausedStreamClient(options: {
  gatewayUrl: string;
  environmentId: string;
  token: string;
  start: Record<string, unknown>;
}): Promise<Socket> {
  const url = new URL(options.gatewayUrl);
  const socket = connect(Number(url.port), url.hostname);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const path = `/v1/environments/${options.environmentId}/exec/stream`;
  socket.write(
    [
      `GET ${path} HTTP/1.1`,
      `Host: ${url.host}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
      'Sec-WebSocket-Version: 13',
      `Authorization: Bearer ${options.token}`,
      '',
      '',
    ].join('\r\n'),
  );
  const head = await new Promise<string>((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('latin1');
      if (!text.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      socket.pause();
      resolve(text);
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
  if (!head.startsWith('HTTP/1.1 101')) {
    socket.destroy();
    throw new Error(`the upgrade was refused: ${head.split('\r\n')[0] ?? ''}`);
  }
  socket.write(clientTextFrame(JSON.stringify(options.start)));
  return socket;
}

/**
 * A command for the sandbox that writes zeros to stdout for ever, 64 KiB at a time, and keeps
 * the count of bytes written so far in `counterFile` (inside the sandbox).
 */
export function zeroWriter(counterFile: string): string[] {
  const file = JSON.stringify(counterFile);
  const script =
    'const fs = require("fs"); const chunk = Buffer.alloc(65536); let n = 0;' +
    `for (;;) { fs.writeSync(1, chunk); n += chunk.length;` +
    ` fs.writeFileSync(${file} + ".new", String(n)); fs.renameSync(${file} + ".new", ${file}); }`;
  return ['/run/hangar/node', '-e', script];
}

/** Polls `check` every 50 ms until it holds, for at most `timeoutMs`. */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}
