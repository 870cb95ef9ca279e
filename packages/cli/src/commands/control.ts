import { resolve } from 'node:path';
import { initOwnerIfAbsent } from '@hangar/control-plane';
import { defineCommand } from '../command.js';
import { writeCredentialsFile } from '../credentials.js';
import { startControlPlaneHere } from '../servers/control-plane.js';
import { serveUntilStopped } from '../servers/foreground.js';
import { httpUrlFlag, logLevelFlag, logLevelFrom } from '../servers/log-level.js';

const ownerTokenTtlS = 30 * 86400;

export const command = defineCommand({
  synopsis:
    '--data-dir DIR [--host H] [--port N] [--database URL] [--public-url URL] [--init-owner FILE]',
  description:
    'Runs the control plane in the foreground until SIGINT or SIGTERM. It keeps its signing ' +
    'key and, by default, its SQLite database (control-plane.db) in --data-dir.',
  spec: {
    flags: {
      'data-dir': { type: 'string', valueName: 'DIR', required: true, describe: 'data directory' },
      host: {
        type: 'string',
        valueName: 'H',
        describe: 'address to listen on (default 127.0.0.1)',
      },
      port: {
        type: 'integer',
        valueName: 'N',
        min: 0,
        max: 65535,
        describe: 'port to listen on (default 7700; 0 picks a free one)',
      },
      database: {
        type: 'string',
        valueName: 'URL',
        describe: 'sqlite:<path> or postgres://… (default: SQLite in --data-dir)',
      },
      'public-url': {
        type: 'string',
        valueName: 'URL',
        describe: 'the URL runners and clients use, when not the listen address',
      },
      'init-owner': {
        type: 'string',
        valueName: 'FILE',
        describe:
          'on first start, create the organization owner and write its credentials to FILE (0600)',
      },
      'log-level': logLevelFlag,
    },
  },
  async run({ io, out }, { flags }) {
    const publicUrl = httpUrlFlag('public-url', flags['public-url'], 'control');
    const cp = await startControlPlaneHere(
      {
        dataDir: resolve(io.cwd, flags['data-dir']),
        host: flags.host ?? '127.0.0.1',
        port: flags.port ?? 7700,
        logLevel: logLevelFrom(flags['log-level'], 'info', 'control'),
        ...(flags.database ? { databaseUrl: flags.database } : {}),
        ...(publicUrl ? { publicUrl } : {}),
      },
      io.stderr,
    );
    const initOwner = flags['init-owner'];
    if (initOwner) {
      const path = resolve(io.cwd, initOwner);
      const owner = await initOwnerIfAbsent(cp.context, {
        orgName: 'default',
        tokenTtlS: ownerTokenTtlS,
      });
      if (owner) {
        await writeCredentialsFile(path, {
          controlPlaneUrl: cp.url,
          token: owner.token,
          orgId: owner.orgId,
        });
        out.info(`created the organization owner; its credentials are in ${path} (mode 0600)`);
      } else {
        out.info('the organization owner exists already; --init-owner wrote nothing');
      }
    }
    out.info(`control plane listening on ${cp.url}; stop it with Ctrl-C`);
    out.result({ url: cp.url, dataDir: resolve(io.cwd, flags['data-dir']) }, () => []);
    return serveUntilStopped(io, out, () => cp.close());
  },
});
