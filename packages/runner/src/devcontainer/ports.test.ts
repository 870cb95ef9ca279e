import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDevcontainer } from './parse.js';
import { noPortsConfig, portLook, portsConfigOf } from './ports.js';

function configOf(text: string) {
  return portsConfigOf(parseDevcontainer({ text, path: '/repo/.devcontainer/devcontainer.json' }));
}

void test('forwardPorts keeps this environment’s ports once each, in order', () => {
  const config = configOf(
    JSON.stringify({ forwardPorts: [3000, 'localhost:8080', 'db:5432', 3000, '127.0.0.1:9229'] }),
  );
  assert.deepEqual(config.forwardPorts, [3000, 8080, 9229]);
});

void test('portsAttributes: an exact port wins over a range, then otherPortsAttributes', () => {
  const config = configOf(
    JSON.stringify({
      portsAttributes: {
        '3000-3999': { label: 'range', onAutoForward: 'silent' },
        '3000': { label: 'Web', protocol: 'https', onAutoForward: 'openBrowser' },
        '.+\\/server.js': { label: 'by command' },
      },
      otherPortsAttributes: { onAutoForward: 'ignore' },
    }),
  );
  assert.deepEqual(portLook(config, 3000), {
    label: 'Web',
    protocol: 'https',
    onAutoForward: 'openBrowser',
  });
  assert.deepEqual(portLook(config, 3500), { label: 'range', onAutoForward: 'silent' });
  assert.deepEqual(portLook(config, 8080), { onAutoForward: 'ignore' });
  assert.deepEqual(
    config.attributes.map((entry) => entry.match.kind),
    ['port', 'range', 'command'],
  );
});

void test('no devcontainer.json: nothing forwarded, no attributes', () => {
  assert.deepEqual(portsConfigOf(undefined), noPortsConfig);
  assert.deepEqual(portLook(noPortsConfig, 3000), {});
  assert.deepEqual(configOf('{}'), { forwardPorts: [], attributes: [] });
});

void test('the result survives JSON, as the runner stores it', () => {
  const config = configOf(
    JSON.stringify({ forwardPorts: [5000], portsAttributes: { '5000': { label: 'api' } } }),
  );
  assert.deepEqual(JSON.parse(JSON.stringify(config)), config);
});
