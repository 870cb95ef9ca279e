import type { PortEntry } from '@hangar/api';
import { defineCommand } from '../command.js';
import { environmentPath, openRunningEnvironment } from '../env-access.js';
import { gatewayClient } from '../gateway.js';
import { table } from '../output.js';
import { apiFlags } from '../session.js';

function stateOf(entry: PortEntry): string {
  if (!entry.listening) return 'not listening';
  return entry.loopbackOnly ? 'loopback' : 'all addresses';
}

export const command = defineCommand({
  synopsis: '<env>',
  description:
    'Lists the ports of a running environment: those listening inside it (and whether only ' +
    'on loopback), and those devcontainer.json forwards, with their label, share level ' +
    '(private, org, public) and the URL the runner serves them at. `hangar port open` gives a ' +
    'link with a grant.',
  spec: {
    positionals: [{ name: 'env', required: true, describe: 'environment id or name' }],
    flags: { ...apiFlags },
  },
  async run({ io, out }, { flags, positionals }) {
    const running = await openRunningEnvironment(io, flags, positionals.env, ['ports:read']);
    const access = await running.access();
    const { ports } = await gatewayClient(access).get<{ ports: PortEntry[] }>(
      environmentPath(access, '/ports'),
    );
    out.result({ environmentId: access.environmentId, ports }, () =>
      ports.length === 0
        ? ['no ports: nothing listens, and devcontainer.json forwards none']
        : table(
            ['PORT', 'STATE', 'PROCESS', 'SHARE', 'LABEL', 'URL'],
            ports.map((entry) => [
              String(entry.port),
              stateOf(entry),
              entry.process?.command.split(' ')[0] ?? '-',
              entry.share,
              entry.label ?? '-',
              entry.hostUrl ?? entry.url,
            ]),
          ),
    );
    return 0;
  },
});
