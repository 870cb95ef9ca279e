import { loadConfig } from './config.js';
import { startEgressForwarder } from './egress-forward.js';
import { log } from './log.js';
import { startEnvdServer } from './server.js';

/** Where the runner mounts envd's configuration inside the sandbox. */
const DEFAULT_CONFIG_PATH = '/run/hangar/envd.json';

async function main(): Promise<number> {
  const config = loadConfig(process.argv[2] ?? DEFAULT_CONFIG_PATH);
  process.umask(0o022);
  const server = await startEnvdServer(config);
  log('info', 'envd listening', { socketPath: server.socketPath, pid: process.pid });
  const forwarder = config.egress ? await startEgressForwarder(config.egress) : undefined;
  if (forwarder) log('info', 'egress forwarder listening', { port: forwarder.port });
  return new Promise<number>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      log('info', 'envd stopping', { signal });
      void Promise.all([server.close(), forwarder?.close()]).then(() => resolve(0));
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
