import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveRunnerConfig } from '../config.js';
import { credentialFor } from './workspace.js';

test('a git credential goes only to its host, and over http only when it says so', async () => {
  const config = await resolveRunnerConfig({
    controlPlaneUrl: 'http://127.0.0.1:1',
    dataDir: '/tmp/unused',
    gitCredentials: [
      { host: 'git.example.internal', password: 'tls-only' },
      { host: 'legacy.example.internal:8080', protocol: 'http', password: 'plain' },
    ],
  });
  assert.equal(credentialFor(config, 'https://git.example.internal/r.git')?.password, 'tls-only');
  assert.equal(credentialFor(config, 'http://git.example.internal/r.git'), undefined);
  assert.equal(credentialFor(config, 'https://other.example.internal/r.git'), undefined);
  assert.equal(credentialFor(config, 'http://legacy.example.internal:8080/r')?.password, 'plain');
  assert.equal(credentialFor(config, 'https://legacy.example.internal:8080/r'), undefined);
  assert.equal(credentialFor(config, 'git@git.example.internal:r.git'), undefined);
});
