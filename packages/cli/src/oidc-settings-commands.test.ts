import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { OidcConfig } from '@hangar/api';
import {
  startTestOidcProvider,
  type TestOidcProvider,
} from '@hangar/control-plane/testing/oidc-provider.js';
import { commandsFixture } from './testing/commands-fixture.js';

const fixture = commandsFixture('hangar-cli-oidc-settings-');
const run = fixture.run;
let provider: TestOidcProvider;

describe('org oidc set --clear, org oidc delete and the redirect URI', () => {
  before(async () => {
    provider = await startTestOidcProvider({
      redirectUris: [`${fixture.cp.url}/v1/auth/callback`],
    });
  });
  after(async () => {
    await provider.close();
  });

  const set = (...extra: string[]) =>
    run([
      'org',
      'oidc',
      'set',
      '--issuer',
      provider.issuer,
      '--client-id',
      provider.clientId,
      ...extra,
    ]);
  const config = async () => {
    const got = await run(['org', 'oidc', 'get', '--json']);
    assert.equal(got.code, 0, got.stderr);
    return JSON.parse(got.stdout) as OidcConfig;
  };

  it('set and get print the redirect URI to register at the provider', async () => {
    const first = await run(
      [
        ...['org', 'oidc', 'set', '--issuer', provider.issuer, '--client-id', provider.clientId],
        ...['--client-secret-stdin', '--allowed-domain', 'example.test'],
        ...['--required-claim', 'email_verified=true'],
      ],
      { stdin: provider.clientSecret },
    );
    assert.equal(first.code, 0, first.stderr);
    const redirect = `${fixture.cp.url}/v1/auth/callback`;
    assert.ok(first.stdout.includes(`redirect URI:    ${redirect} (register it`), first.stdout);
    const human = await run(['org', 'oidc', 'get']);
    assert.ok(human.stdout.includes(redirect), human.stdout);
    assert.equal((await config()).redirectUri, redirect);
  });

  it('--clear removes the required claim or the allowed domains and keeps the rest', async () => {
    assert.equal((await set('--required-claim', 'team=dev')).code, 0);
    const claimless = await set('--clear', 'required-claim');
    assert.equal(claimless.code, 0, claimless.stderr);
    assert.match(claimless.stdout, /required claim: +none/);
    let now = await config();
    assert.equal(now.requiredClaim, undefined);
    assert.deepEqual(now.allowedDomains, ['example.test']);

    assert.equal((await set('--required-claim', 'team=dev')).code, 0);
    const anyDomain = await set('--clear', 'allowed-domains');
    assert.equal(anyDomain.code, 0, anyDomain.stderr);
    now = await config();
    assert.deepEqual(now.allowedDomains, []);
    assert.deepEqual(now.requiredClaim, { name: 'team', value: 'dev' });

    const both = await set('--clear', 'allowed-domains', '--clear', 'required-claim');
    assert.equal(both.code, 0, both.stderr);
    now = await config();
    assert.equal(now.requiredClaim, undefined);
    assert.deepEqual(now.allowedDomains, []);
  });

  it('bad settings are usage errors that name the flag, not a pattern', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--required-claim', ''], /--required-claim is empty: to remove it, pass --clear/],
      [['--allowed-domain', ''], /--allowed-domain is empty: to allow any domain, pass --clear/],
      [['--allowed-domain', 'Example Test'], /--allowed-domain must be a lower-case e-mail domain/],
      [['--required-claim', '9x=1'], /--required-claim has the claim name "9x"/],
      [['--clear', 'issuer'], /--clear must be required-claim or allowed-domains, got "issuer"/],
      [
        ['--clear', 'required-claim', '--required-claim', 'a=b'],
        /--clear required-claim cannot go with --required-claim/,
      ],
      [
        ['--clear', 'allowed-domains', '--allowed-domain', 'example.test'],
        /--clear allowed-domains cannot go with --allowed-domain/,
      ],
    ];
    for (const [extra, message] of cases) {
      const result = await set(...extra);
      assert.equal(result.code, 2, `${extra.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
      assert.doesNotMatch(result.stderr, /\^|pattern/);
    }
  });

  it('org oidc delete removes the provider; get and a second delete say none is set', async () => {
    const removed = await run(['org', 'oidc', 'delete']);
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stdout, /removed the OpenID provider/);
    const got = await run(['org', 'oidc', 'get']);
    assert.equal(got.code, 1);
    assert.match(got.stderr, /no OpenID provider configured; an owner or admin sets one/);
    const again = await run(['org', 'oidc', 'delete']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /no OpenID provider configured/);
  });
});
