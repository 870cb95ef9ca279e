import assert from 'node:assert/strict';
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { OidcConfig } from '@hangar/api';
import {
  startTestOidcProvider,
  type TestOidcProvider,
} from '@hangar/control-plane/testing/oidc-provider.js';
import { writeCredentialsFile } from './credentials.js';
import { commandsFixture } from './testing/commands-fixture.js';

const fixture = commandsFixture('hangar-cli-oidc-');
const run = fixture.run;
let provider: TestOidcProvider;

describe('org oidc set and get, login and logout against a real control plane', () => {
  before(async () => {
    provider = await startTestOidcProvider({
      redirectUris: [`${fixture.cp.url}/v1/auth/callback`],
    });
  });
  after(async () => {
    await provider.close();
  });

  it('org oidc set reads the secret from stdin; get never shows it', async () => {
    const set = await run(
      [
        'org',
        'oidc',
        'set',
        '--issuer',
        provider.issuer,
        '--client-id',
        provider.clientId,
        '--client-secret-stdin',
        '--allowed-domain',
        'example.test',
        '--required-claim',
        'team=dev',
        '--store-profile',
        'off',
        '--token-exchange',
        'on',
      ],
      { stdin: `${provider.clientSecret}\n` },
    );
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /client secret: +set \(never shown\)/);
    assert.match(set.stdout, /token exchange: +on/);
    const got = await run(['org', 'oidc', 'get', '--json']);
    assert.equal(got.code, 0, got.stderr);
    const config = JSON.parse(got.stdout) as OidcConfig;
    assert.equal(config.issuer, provider.issuer);
    assert.deepEqual(config.requiredClaim, { name: 'team', value: 'dev' });
    assert.equal(config.tokenExchange, true);
    assert.ok(!got.stdout.includes(provider.clientSecret));
    const off = await run([
      ...['org', 'oidc', 'set', '--issuer', provider.issuer, '--client-id', provider.clientId],
      ...['--token-exchange', 'off'],
    ]);
    assert.equal(off.code, 0, off.stderr);
    assert.match(off.stdout, /token exchange: +off/);
  });

  it('org oidc set refuses bad flags before asking, and the server names a bad issuer', async () => {
    const base = ['org', 'oidc', 'set', '--issuer', provider.issuer, '--client-id', 'c'];
    const profile = await run([...base, '--store-profile', 'maybe']);
    assert.equal(profile.code, 2);
    assert.match(profile.stderr, /--store-profile must be on or off/);
    const exchange = await run([...base, '--token-exchange', 'yes']);
    assert.equal(exchange.code, 2);
    assert.match(exchange.stderr, /--token-exchange must be on or off/);
    const claim = await run([...base, '--required-claim', 'novalue']);
    assert.equal(claim.code, 2);
    assert.match(claim.stderr, /--required-claim must be name=value/);
    const role = await run([...base, '--default-role', 'owner']);
    assert.equal(role.code, 2);
    const empty = await run([...base, '--client-secret-stdin'], { stdin: '' });
    assert.equal(empty.code, 2);
    const issuer = await run([
      'org',
      'oidc',
      'set',
      '--issuer',
      'http://example.test',
      '--client-id',
      'c',
    ]);
    assert.equal(issuer.code, 1);
    assert.match(issuer.stderr, /issuer must be https:\/\//);
  });

  it('login without a control plane URL says how to give one', async () => {
    const home = join(fixture.scratch, 'nowhere');
    const result = await run(['login', '--no-browser'], { env: { HANGAR_HOME: home } });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /no control plane URL: pass --url/);
  });

  it('logout ends the token at the control plane and removes its credentials file', async () => {
    const made = await fixture.api.post<{ token: string }>('/v1/tokens', {
      scopes: ['environments:read'],
      expiresInS: 600,
    });
    const home = join(fixture.scratch, 'logout-home');
    await mkdir(home, { recursive: true });
    const path = join(home, 'credentials.json');
    await writeCredentialsFile(path, {
      controlPlaneUrl: fixture.cp.url,
      token: made.token,
      orgId: fixture.cp.orgId,
    });
    const env = { HANGAR_HOME: home };
    const out = await run(['logout'], { env });
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, new RegExp(`removed ${path}`));
    await assert.rejects(stat(path), { code: 'ENOENT' });
    const refused = await run(['whoami'], {
      env: { HANGAR_URL: fixture.cp.url, HANGAR_TOKEN: made.token },
    });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /revoked/);
  });
});
