import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PortEntry } from '../gateway.js';
import { assertLabelled, ignore, markup } from '../testing/markup.js';
import type { GatewayState } from './gateway-state.js';
import { PortsTable, type PortsTableProps } from './PortsTable.js';

function table(ports: GatewayState<PortEntry[]>, extra: Partial<PortsTableProps> = {}) {
  return markup(
    <PortsTable
      ports={ports}
      portError={null}
      busyPort={null}
      blockedLink={null}
      onShare={ignore}
      onOpen={ignore}
      onRefresh={ignore}
      {...extra}
    />,
  );
}

const url = 'http://127.0.0.1:7701/ports/env_aaaaaaaaaaaaaaaa';

const web: PortEntry = {
  port: 8123,
  listening: true,
  addresses: [{ address: '0.0.0.0', family: 'ipv4', loopbackOnly: false }],
  loopbackOnly: false,
  process: { pid: 41, command: 'python3 -m http.server 8123' },
  forwarded: true,
  label: 'docs preview',
  share: 'org',
  url: `${url}/8123/`,
};

const database: PortEntry = {
  port: 5432,
  listening: true,
  addresses: [
    { address: '127.0.0.1', family: 'ipv4', loopbackOnly: true },
    { address: '::1', family: 'ipv6', loopbackOnly: true },
  ],
  loopbackOnly: true,
  process: null,
  forwarded: false,
  share: 'private',
  url: `${url}/5432/`,
};

const forwardedOnly: PortEntry = {
  port: 3000,
  listening: false,
  addresses: [],
  loopbackOnly: null,
  process: null,
  forwarded: true,
  share: 'private',
  url: `${url}/3000/`,
};

test('ports: loading, error, empty and unavailable states', () => {
  assert.match(table({ kind: 'loading' }), /role="status">Loading the ports…</);
  const failed = table({ kind: 'error', message: 'the access token does not allow ports:read' });
  assert.match(failed, /role="alert">Could not load the ports: the access token does not allow/);
  assert.match(table({ kind: 'ready', data: [] }), /Nothing listens in the environment/);
  const stopped = table({ kind: 'unavailable', reason: 'Ports are listed while it runs.' });
  assert.match(stopped, /<p>Ports are listed while it runs.<\/p>/);
  assert.doesNotMatch(stopped, /Refresh ports/);
});

test('ports: each port with where it listens, its process, label and share level', () => {
  const html = table({ kind: 'ready', data: [web, database, forwardedOnly] });
  assertLabelled(html);
  assert.match(html, /<caption>Ports listening or forwarded<\/caption>/);
  assert.match(html, /<th scope="col">Bound to<\/th>/);
  assert.match(html, /data-loopback="false"><code>0.0.0.0<\/code> \(all interfaces\)/);
  assert.match(html, /data-loopback="true"><code>127.0.0.1<\/code> \(loopback only\)/);
  assert.match(html, /data-loopback="true"><code>::1<\/code> \(loopback only\)/);
  assert.match(html, /<code>python3 -m http.server 8123<\/code> \(pid 41\)/);
  assert.match(html, /<td>docs preview<\/td>/);
  assert.match(
    html,
    /<label for="share-8123" class="visually-hidden">Share port 8123 with<\/label>/,
  );
  assert.match(html, /<option value="org" selected="">org<\/option>/);
  assert.match(html, /not listening \(forwarded by devcontainer.json\)/);
  assert.match(html, /<button type="button">Open <span class="visually-hidden">port 8123 in a new/);
  assert.match(
    html,
    /<button type="button" disabled="">Open <span class="visually-hidden">port 3000/,
  );
  assert.match(
    html,
    /<strong>public<\/strong>: anyone with the link, where the organization policy/,
  );
});

test('ports: a refusal is announced, a busy port waits, a blocked tab gets a link', () => {
  const html = table(
    { kind: 'ready', data: [web] },
    {
      portError: 'Port 8123 stays as it was: the organization policy maxPortShareLevel is org',
      busyPort: 8123,
      blockedLink: { port: 8123, url: `${url}/8123/?hangar_grant=hat1.x` },
    },
  );
  assert.match(html, /role="alert">Port 8123 stays as it was: the organization policy/);
  assert.match(html, /<select id="share-8123" disabled="">/);
  assert.match(html, /<button type="button" disabled="">Open/);
  assert.match(
    html,
    /<a href="[^"]+\/8123\/\?hangar_grant=hat1.x" target="_blank" rel="noopener noreferrer">Open port 8123 in a new tab<\/a>/,
  );
});
