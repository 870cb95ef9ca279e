import { loadConfig } from './config.js';
import { log } from './log.js';
import { startEnvdServer } from './server.js';

/** Where the runner mounts envd's configuration inside the sandbox. */
const DEFAULT_CONFIG_PATH = '/run/hangar/envd.json';

async function main(): Promise<number> {
  const config = loadConfig(process.argv[2] ?? DEFAULT_CONFIG_PATH);
  process.umask(0o022);
  const server = await startEnvdServer(config);
  log('info', 'envd listening', { socketPath: server.socketPath, pid: process.pid });
  return new Promise<number>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      log('info', 'envd stopping', { signal });
      void server.close().then(() => resolve(0));
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    log('error', 'envd failed', { error: error instanceof Error ? error.message : String(error) });
    process.exit(1);
  },
);
