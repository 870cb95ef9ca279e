import { chmod, mkdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { bootstrapOwner } from '@hangar/control-plane';
import { defineCommand } from '../command.js';
import { credentialsPathIn, hangarHome, writeCredentialsFile } from '../credentials.js';
import { HttpClient } from '../http-client.js';
import type { Output } from '../output.js';
import { startControlPlaneHere } from '../servers/control-plane.js';
import { serveUntilStopped } from '../servers/foreground.js';
import { createLocalRunnerRecord, hasRunnerIdentity } from '../servers/local-runner.js';
import { httpUrlFlag, logLevelFlag, logLevelFrom } from '../servers/log-level.js';
import { startRunnerHere, type StartedRunner } from '../servers/runner-module.js';

const tokenTtlS = 30 * 86400;

/**
 * Creates the home directory. A runner started as root clones and runs environments as an
 * unprivileged user, who must be able to pass through the home to reach its workspace (0711:
 * search, never list); the secrets inside are files of mode 0600.
 */
async function prepareHome(home: string): Promise<void> {
  await mkdir(home, { recursive: true, mode: 0o711 });
  if (process.getuid?.() !== 0) return;
  const mode = (await stat(home)).mode & 0o777;
  if ((mode & 0o111) !== 0o111) await chmod(home, mode | 0o111);
}

interface UpSummary {
  home: string;
  controlPlaneUrl: string;
  gatewayUrl: string;
  sshAddress: string;
  runnerId: string;
  runnerEncryptionKey: string;
  orgId: string;
  userId: string;
  credentialsPath: string;
  tokenExpiresAt: string;
}

function guidance(out: Output, summary: UpSummary, defaultHome: boolean): void {
  const env = defaultHome ? '' : `HANGAR_HOME=${summary.home} `;
  const lines = [
    'Hangar is running.',
    `  dashboard      ${summary.controlPlaneUrl}/  (sign in with the token below)`,
    `  control plane  ${summary.controlPlaneUrl}`,
    `  runner         ${summary.runnerId}, gateway ${summary.gatewayUrl}`,
    `                 secrets are sealed to its key ${summary.runnerEncryptionKey}`,
    `  ssh gateway    ${summary.sshAddress}`,
    `  token          written to ${summary.credentialsPath}`,
    `                 (mode 0600, expires ${summary.tokenExpiresAt})`,
    '',
    'Next, in another terminal from this directory:',
    `  ${env}npx hangar env create <git URL or path> --wait`,
    `  ${env}npx hangar env list`,
    `  ${env}npx hangar env exec <env> -- ls -la`,
    `  ${env}npx hangar ssh-key add ~/.ssh/id_ed25519.pub && ${env}npx hangar ssh <env>`,
    `  ${env}npx hangar audit verify`,
    '',
    'Press Ctrl-C to stop everything.',
  ];
  out.info(lines.join('\n'));
}

export const command = defineCommand({
  synopsis: '[--home DIR] [--port N] [--gateway-port N] [--database URL] [--public-url URL]',
  description:
    'Runs Hangar on this machine until Ctrl-C: a control plane on 127.0.0.1 (SQLite in ' +
    '<home>/control-plane unless --database), an owner whose new 30-day token goes to ' +
    '<home>/credentials.json (mode 0600), and a runner in <home>/runner, enrolled on the first ' +
    'run. Running it again keeps every record and brings environments back to their desired ' +
    'phase. <home> is --home, else HANGAR_HOME, else ./.hangar.',
  spec: {
    flags: {
      home: { type: 'string', valueName: 'DIR', describe: 'data directory (default ./.hangar)' },
      port: {
        type: 'integer',
        valueName: 'N',
        min: 0,
        max: 65535,
        describe: 'control plane port (default 7700; 0 picks a free one)',
      },
      'gateway-port': {
        type: 'integer',
        valueName: 'N',
        min: 0,
        max: 65535,
        describe: 'runner gateway port (default 7701; 0 picks a free one)',
      },
      database: {
        type: 'string',
        valueName: 'URL',
        describe: 'sqlite:<path> or postgres://… (default: SQLite in <home>/control-plane)',
      },
      'public-url': {
        type: 'string',
        valueName: 'URL',
        describe:
          'the URL clients, the runner and the OpenID redirect use, when not ' +
          'http://127.0.0.1:<port>',
      },
      'log-level': { ...logLevelFlag, describe: `${logLevelFlag.describe} (default warn)` },
    },
  },
  async run({ io, out }, { flags }) {
    const logLevel = logLevelFrom(flags['log-level'], 'warn', 'up');
    const publicUrl = httpUrlFlag('public-url', flags['public-url'], 'up');
    const home = flags.home ? resolve(io.cwd, flags.home) : hangarHome(io);
    await prepareHome(home);
    const cp = await startControlPlaneHere(
      {
        dataDir: join(home, 'control-plane'),
        host: '127.0.0.1',
        port: flags.port ?? 7700,
        logLevel,
        // One machine: a provider run beside it on loopback may be used.
        oidcAllowHttpLoopbackIssuers: true,
        ...(flags.database ? { databaseUrl: flags.database } : {}),
        ...(publicUrl ? { publicUrl } : {}),
      },
      io.stderr,
    );
    let runner: StartedRunner | undefined;
    try {
      const owner = await bootstrapOwner(cp.context, { orgName: 'local', tokenTtlS });
      const credentialsPath = credentialsPathIn(home);
      await writeCredentialsFile(credentialsPath, {
        controlPlaneUrl: cp.url,
        token: owner.token,
        orgId: owner.orgId,
      });
      const runnerDir = join(home, 'runner');
      let enrollmentToken: string | undefined;
      if (!(await hasRunnerIdentity(runnerDir))) {
        const api = new HttpClient({
          baseUrl: cp.url,
          token: owner.token,
          service: 'control plane',
        });
        enrollmentToken = (await createLocalRunnerRecord(api, out, runnerDir)).enrollmentToken;
      }
      runner = await startRunnerHere(
        {
          controlPlaneUrl: cp.url,
          dataDir: runnerDir,
          gatewayHost: '127.0.0.1',
          gatewayPort: flags['gateway-port'] ?? 7701,
          stopEnvironmentsOnExit: true,
          // The embedded setup is one person's machine: clones by path are theirs to make.
          localRepositoryRoots: ['/'],
          logLevel,
          ...(enrollmentToken ? { enrollmentToken } : {}),
        },
        io.stderr,
      );
      const summary: UpSummary = {
        home,
        controlPlaneUrl: cp.url,
        gatewayUrl: runner.gatewayUrl,
        sshAddress: runner.ssh.address,
        runnerId: runner.runnerId,
        runnerEncryptionKey: runner.encryptionKeyFingerprint,
        orgId: owner.orgId,
        userId: owner.userId,
        credentialsPath,
        tokenExpiresAt: new Date(owner.tokenExpiresAt).toISOString(),
      };
      guidance(out, summary, home === resolve(io.cwd, '.hangar'));
      out.result(summary, () => []);
    } catch (error) {
      await runner?.close().catch(() => undefined);
      await cp.close().catch(() => undefined);
      throw error;
    }
    const started = runner;
    return serveUntilStopped(io, out, async () => {
      await started.close();
      await cp.close();
    });
  },
});
