import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { OidcConfig } from '@hangar/api';
import {
  startTestOidcProvider,
  type TestOidcProvider,
} from '@hangar/control-plane/testing/oidc-provider.js';
import { main } from './main.js';
import { captureIo } from './testing/capture-io.js';

let root: string;
let provider: TestOidcProvider;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'hangar-cli-up-public-'));
  await chmod(root, 0o755);
  provider = await startTestOidcProvider({ redirectUris: ['http://127.0.0.1:1/unused'] });
});

after(async () => {
  await provider.close();
  await rm(root, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function run(argv: string[], env: Record<string, string>, stdin = '') {
  const io = captureIo({ cwd: root, env, stdin });
  const code = await main(argv, io);
  return { code, stdout: io.stdout.text(), stderr: io.stderr.text() };
}

describe('hangar up --public-url', () => {
  it('is checked as a URL before anything starts', async () => {
    const bad = await run(['up', '--home', join(root, 'bad'), '--public-url', 'hangar.local'], {});
    assert.equal(bad.code, 2);
    assert.match(
      bad.stderr,
      /--public-url must be an http:\/\/ or https:\/\/ URL, got "hangar.local"/,
    );
  });

  it('reaches the control plane: clients use it and the OpenID redirect URI is built on it', async () => {
    const port = await freePort();
    const home = join(root, 'home');
    const argv = ['up', '--home', home, '--port', String(port), '--gateway-port', '0', '--json'];
    const io = captureIo({ cwd: root });
    const running = main([...argv, '--public-url', `http://127.0.0.1:${port}/`], io);
    let ended: number | undefined;
    void running.then((code) => (ended = code));
    try {
      let summary: { controlPlaneUrl: string } | undefined;
      while (!summary) {
        if (ended !== undefined) assert.fail(`up ended with ${ended}: ${io.stderr.text()}`);
        const text = io.stdout.text();
        if (text.trim().endsWith('}')) summary = JSON.parse(text) as { controlPlaneUrl: string };
        else await new Promise((resolve) => setTimeout(resolve, 25));
      }
      assert.equal(summary.controlPlaneUrl, `http://127.0.0.1:${port}`);
      const env = { HANGAR_HOME: home };
      const set = await run(
        [
          ...['org', 'oidc', 'set', '--issuer', provider.issuer, '--client-id', provider.clientId],
          ...['--client-secret-stdin', '--json'],
        ],
        env,
        provider.clientSecret,
      );
      assert.equal(set.code, 0, set.stderr);
      const config = JSON.parse(set.stdout) as OidcConfig;
      assert.equal(config.redirectUri, `http://127.0.0.1:${port}/v1/auth/callback`);
    } finally {
      io.stop();
      assert.equal(await running, 0, io.stderr.text());
    }
  });
});
