import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { WhoAmIResponse } from '@hangar/api';
import { startTestBrowser, type TestBrowser } from '@hangar/control-plane/testing/oidc-browser.js';
import {
  startTestOidcProvider,
  type TestOidcProvider,
} from '@hangar/control-plane/testing/oidc-provider.js';
import { writeCredentialsFile } from './credentials.js';
import { main } from './main.js';
import { captureIo } from './testing/capture-io.js';
import { commandsFixture } from './testing/commands-fixture.js';

const fixture = commandsFixture('hangar-cli-login-');
let provider: TestOidcProvider;
let browser: TestBrowser;

/** `hangar login --no-browser` as `subject`: the browser plays the person at the provider. */
async function login(subject: string, argv: string[], env: Record<string, string>) {
  const io = captureIo({ env, cwd: fixture.scratch });
  const running = main(['login', '--no-browser', '--url', fixture.cp.url, ...argv], io);
  let url: string | undefined;
  let code: number | undefined;
  void running.then((done) => (code = done));
  while (url === undefined && code === undefined) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    url = /^ {2}(http:\/\/127\.0\.0\.1:\d+\/\S+)$/m.exec(io.stderr.text())?.[1];
  }
  if (url !== undefined) {
    await browser.signIn({
      url,
      subject,
      done: async (page) => /Signed in to Hangar/.test(await page.innerText('body')),
    });
  }
  return { code: await running, stdout: io.stdout.text(), stderr: io.stderr.text() };
}

async function whoami(env: Record<string, string>): Promise<WhoAmIResponse> {
  const io = captureIo({ env, cwd: fixture.scratch });
  assert.equal(await main(['whoami', '--json'], io), 0, io.stderr.text());
  return JSON.parse(io.stdout.text()) as WhoAmIResponse;
}

describe('hangar login keeps another user’s credentials file unless told', () => {
  before(async () => {
    provider = await startTestOidcProvider({
      redirectUris: [`${fixture.cp.url}/v1/auth/callback`],
    });
    browser = await startTestBrowser();
    await fixture.api.json('PUT', '/v1/org/oidc', {
      body: {
        issuer: provider.issuer,
        clientId: provider.clientId,
        clientSecret: provider.clientSecret,
      },
    });
  });
  after(async () => {
    await browser.close();
    await provider.close();
  });

  it('refuses to replace the owner token, writes --credentials, and --force replaces', async () => {
    const home = join(fixture.scratch, 'home');
    await mkdir(home, { recursive: true });
    const ownerFile = join(home, 'credentials.json');
    const { url, token, orgId } = fixture.cp;
    await writeCredentialsFile(ownerFile, { controlPlaneUrl: url, token, orgId });
    const env = { HANGAR_HOME: home };
    const ownerId = (await whoami(env)).userId;

    const refused = await login('alice', [], env);
    assert.equal(refused.code, 1, refused.stderr);
    assert.ok(refused.stderr.includes(`not signed in: ${ownerFile} holds the credentials of`));
    assert.ok(refused.stderr.includes(ownerId), refused.stderr);
    assert.match(refused.stderr, /pass --credentials FILE .* or --force to replace them/);
    assert.match(refused.stderr, /the new session was ended/);
    assert.equal(
      (JSON.parse(await readFile(ownerFile, 'utf8')) as { token: string }).token,
      fixture.cp.token,
    );
    assert.equal((await whoami(env)).userId, ownerId, 'the owner token still works');

    const own = join(fixture.scratch, 'alice.json');
    const written = await login('alice', ['--credentials', own], env);
    assert.equal(written.code, 0, written.stderr);
    assert.ok(written.stdout.includes(`credentials written to ${own} (mode 0600)\n`));
    const alice = await whoami({ HANGAR_CREDENTIALS: own });
    assert.notEqual(alice.userId, ownerId);
    assert.equal(alice.orgName, 'test');

    const again = await login('alice', ['--credentials', own], env);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /, replacing your earlier credentials/);

    const forced = await login('alice', ['--force'], env);
    assert.equal(forced.code, 0, forced.stderr);
    assert.ok(
      forced.stdout.includes(`${ownerFile} (mode 0600), replacing the credentials of ${ownerId}`),
      forced.stdout,
    );
    assert.equal((await whoami(env)).userId, alice.userId);

    // The session ended by `hangar logout`, its file put back: the CLI says to sign in again.
    const kept = await readFile(ownerFile, 'utf8');
    const out = captureIo({ env, cwd: fixture.scratch });
    assert.equal(await main(['logout'], out), 0, out.stderr.text());
    await writeFile(ownerFile, kept, { mode: 0o600 });
    const ended = captureIo({ env, cwd: fixture.scratch });
    assert.equal(await main(['whoami'], ended), 1);
    assert.ok(
      ended.stderr
        .text()
        .includes(
          'the session has ended (signed out or revoked); sign in again with `hangar login` ' +
            `(the session came from ${ownerFile})`,
        ),
      ended.stderr.text(),
    );
    assert.doesNotMatch(ended.stderr.text(), /hangar up/);
  });

  it('a credentials file for another control plane is kept without asking it', async () => {
    const path = join(fixture.scratch, 'elsewhere.json');
    await writeCredentialsFile(path, {
      controlPlaneUrl: 'http://127.0.0.1:9',
      token: 'hgr_not_sent_anywhere',
      orgId: fixture.cp.orgId,
    });
    const refused = await login('alice', ['--credentials', path], {});
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /holds credentials for another control plane, http:\/\/127.0.0.1:9/,
    );
    assert.doesNotMatch(refused.stderr, /new session was ended/, 'refused before any sign-in');
  });

  it('--org naming no organization with a provider says where to find the name', async () => {
    const refused = await login('alice', ['--org', 'no-such-org'], {
      HANGAR_CREDENTIALS: join(fixture.scratch, 'unused.json'),
    });
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /no organization named no-such-org has an OpenID provider; `hangar whoami` shows your organization's name/,
    );
    const me = await whoami(fixture.cp.env);
    assert.equal(me.orgName, 'test');
    const human = captureIo({ env: fixture.cp.env, cwd: fixture.scratch });
    assert.equal(await main(['whoami'], human), 0);
    assert.match(human.stdout.text(), new RegExp(`organization: +test \\(${me.orgId}\\)`));
  });
});
