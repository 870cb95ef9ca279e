// Prints the gateway's OpenAPI document on stdout: the gateway's app is built with every route,
// never listening and never serving a request, so it needs nothing of a running runner.
import { buildGateway } from '../gateway/server.js';
import type { GatewayDeps } from '../gateway/deps.js';
import { createRunnerLogger } from '../logger.js';

/** Only what building the routes reads; a request would find everything else missing. */
const buildOnly = { logger: createRunnerLogger({ level: 'silent' }) } as unknown as GatewayDeps;

const { app } = await buildGateway(buildOnly, {});
process.stdout.write(`${JSON.stringify(app.swagger(), null, 2)}\n`);
await app.close();
