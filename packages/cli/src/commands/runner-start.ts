import { resolve } from 'node:path';
import { defineCommand } from '../command.js';
import { serveUntilStopped } from '../servers/foreground.js';
import { httpUrlFlag, logLevelFlag, logLevelFrom } from '../servers/log-level.js';
import { startRunnerHere } from '../servers/runner-module.js';

export const command = defineCommand({
  synopsis:
    '--control-plane URL [--enroll TOKEN] --data-dir DIR [--gateway-host H] [--gateway-port N] ' +
    '[--gateway-url URL] [--ssh-host H] [--ssh-port N] [--ssh-address HOST[:PORT]] [--config FILE]',
  description:
    'Runs a runner in the foreground until SIGINT or SIGTERM. The first start enrolls with ' +
    '--enroll (from `hangar runner create`; or HANGAR_ENROLLMENT_TOKEN, which stays out of the ' +
    'process list) and keeps the key pair in --data-dir; later starts reuse it.',
  spec: {
    flags: {
      'control-plane': {
        type: 'string',
        valueName: 'URL',
        required: true,
        describe: 'the control plane URL to dial',
      },
      enroll: {
        type: 'string',
        valueName: 'TOKEN',
        describe: 'enrollment token, first start only',
      },
      'data-dir': { type: 'string', valueName: 'DIR', required: true, describe: 'data directory' },
      'gateway-host': {
        type: 'string',
        valueName: 'H',
        describe: 'address the gateway listens on (default 127.0.0.1)',
      },
      'gateway-port': {
        type: 'integer',
        valueName: 'N',
        min: 0,
        max: 65535,
        describe: 'gateway port (default 7701; 0 picks a free one)',
      },
      'gateway-url': {
        type: 'string',
        valueName: 'URL',
        describe: 'the gateway URL clients use, when not the listen address',
      },
      'ssh-host': {
        type: 'string',
        valueName: 'H',
        describe: 'address the SSH gateway listens on (default 127.0.0.1)',
      },
      'ssh-port': {
        type: 'integer',
        valueName: 'N',
        min: 0,
        max: 65535,
        describe: 'SSH gateway port (default: the gateway port + 1; 0 picks a free one)',
      },
      'ssh-address': {
        type: 'string',
        valueName: 'HOST[:PORT]',
        describe: 'the address SSH clients dial, when not the listen address',
      },
      config: { type: 'string', valueName: 'FILE', describe: 'runner settings file (JSON)' },
      'stop-environments-on-exit': {
        type: 'boolean',
        describe: 'stop every environment when the runner stops',
      },
      'log-level': logLevelFlag,
    },
  },
  async run({ io, out }, { flags }) {
    const controlPlaneUrl = httpUrlFlag('control-plane', flags['control-plane'], 'runner') ?? '';
    const gatewayPublicUrl = httpUrlFlag('gateway-url', flags['gateway-url'], 'runner');
    const enrollmentToken = flags.enroll ?? io.env.HANGAR_ENROLLMENT_TOKEN;
    const dataDir = resolve(io.cwd, flags['data-dir']);
    const runner = await startRunnerHere(
      {
        controlPlaneUrl,
        dataDir,
        logLevel: logLevelFrom(flags['log-level'], 'info', 'runner'),
        stopEnvironmentsOnExit: flags['stop-environments-on-exit'],
        ...(enrollmentToken ? { enrollmentToken } : {}),
        ...(flags['gateway-host'] ? { gatewayHost: flags['gateway-host'] } : {}),
        ...(flags['gateway-port'] !== undefined ? { gatewayPort: flags['gateway-port'] } : {}),
        ...(gatewayPublicUrl ? { gatewayPublicUrl } : {}),
        ...(flags['ssh-host'] ? { sshHost: flags['ssh-host'] } : {}),
        ...(flags['ssh-port'] !== undefined ? { sshPort: flags['ssh-port'] } : {}),
        ...(flags['ssh-address'] ? { sshPublicAddress: flags['ssh-address'] } : {}),
        ...(flags.config ? { configFile: resolve(io.cwd, flags.config) } : {}),
      },
      io.stderr,
    );
    out.info(
      `runner ${runner.runnerId} started; gateway ${runner.gatewayUrl}, SSH ` +
        `${runner.ssh.address}; stop it with Ctrl-C`,
    );
    const summary = { runnerId: runner.runnerId, gatewayUrl: runner.gatewayUrl, dataDir };
    out.result({ ...summary, sshAddress: runner.ssh.address }, () => []);
    return serveUntilStopped(io, out, () => runner.close());
  },
});
