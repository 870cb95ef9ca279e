import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { AuditRecord } from '@hangar/api';
import type { TestControlPlane } from '@hangar/control-plane/testing/harness.js';
import { startTestBrowser, type TestBrowser } from '@hangar/control-plane/testing/oidc-browser.js';
import type { TestOidcProvider } from '@hangar/control-plane/testing/oidc-provider.js';
import { hangar, hangarBin } from '../support/cli.js';
import { startSignInSetup } from '../support/oidc.js';

let dir: string;
let t: TestControlPlane;
let provider: TestOidcProvider;
let browser: TestBrowser;

before(
  async () => {
    dir = await mkdtemp(join(tmpdir(), 'hangar-oidc-e2e-'));
    ({ t, provider } = await startSignInSetup());
    browser = await startTestBrowser();
  },
  { timeout: 60_000 },
);

after(async () => {
  await browser.close();
  await provider.close();
  await t.close();
  await rm(dir, { recursive: true, force: true });
});

/** `hangar login ...` as its own process; resolves once its stderr matches `ready`. */
function startLogin(args: string[], env: NodeJS.ProcessEnv, ready: RegExp) {
  const child = spawn(process.execPath, [hangarBin, 'login', ...args], {
    env: { ...process.env, ...env, DISPLAY: '', WAYLAND_DISPLAY: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const matched = new Promise<RegExpExecArray>((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = ready.exec(stderr);
      if (match) resolve(match);
    });
    child.on('close', (code) => reject(new Error(`hangar login exited ${code}: ${stderr}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return { matched, exited, output: () => ({ stdout, stderr }) };
}

async function audited(action: string): Promise<AuditRecord[]> {
  const page = await t.request<{ records: AuditRecord[] }>('GET', `/v1/audit?action=${action}`);
  return page.body.records;
}

test(
  'hangar login in the browser, whoami with the session, logout, the session refused',
  { timeout: 120_000 },
  async () => {
    const env = { HANGAR_HOME: join(dir, 'browser') };
    const login = startLogin(
      ['--org', 'test', '--url', t.url, '--no-browser'],
      env,
      /open this address in a browser to sign in:\s+(\S+)/,
    );
    const [, authorizationUrl = ''] = await login.matched;
    assert.ok(authorizationUrl.startsWith(`${provider.issuer}/`), authorizationUrl);
    const last = await browser.signIn({
      url: authorizationUrl,
      subject: 'dana',
      done: async (page) => (await page.innerText('body')).includes('Signed in to Hangar'),
    });
    assert.match(last, /close this tab/);
    assert.equal(await login.exited, 0, login.output().stderr);
    assert.match(login.output().stdout, /^signed in as usr_\S+ in org_\S+;/);

    const credentials = join(dir, 'browser', 'credentials.json');
    assert.equal((await stat(credentials)).mode & 0o777, 0o600);
    const me = await hangar(['whoami', '--json'], env);
    assert.equal(me.code, 0, me.stderr);
    const who = JSON.parse(me.stdout) as { userId: string; role: string; tokenSource: string };
    assert.equal(who.role, 'member');
    assert.equal(who.tokenSource, credentials);
    const success = (await audited('auth.login')).filter((r) => r.outcome === 'success');
    assert.ok(success.some((r) => r.actor.id === who.userId && r.details.flow === 'browser'));

    const { readFile } = await import('node:fs/promises');
    const { token } = JSON.parse(await readFile(credentials, 'utf8')) as { token: string };
    const out = await hangar(['logout'], env);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /^signed out: tok_\S+ ended at /);
    await assert.rejects(stat(credentials), { code: 'ENOENT' });
    const refused = await hangar(['whoami'], { HANGAR_URL: t.url, HANGAR_TOKEN: token });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^error unauthenticated: the session has ended .*hangar login/);
    const failures = await audited('auth.failure');
    assert.ok(
      failures.some((r) => r.actor.id === who.userId && r.details.reason === 'token revoked'),
    );
    const logouts = await audited('auth.logout');
    assert.ok(logouts.some((r) => r.actor.id === who.userId && r.details.kind === 'session'));
  },
);

test(
  'hangar login --device, approved in the browser at the provider',
  { timeout: 120_000 },
  async () => {
    const env = { HANGAR_CREDENTIALS: join(dir, 'device', 'credentials.json') };
    const login = startLogin(
      ['--device', '--url', t.url],
      env,
      /enter the code\s+(\S+)\s+or open (\S+)/,
    );
    const [, userCode = '', complete = ''] = await login.matched;
    await browser.signIn({
      url: complete,
      subject: 'erin',
      userCode,
      done: async (page) => /success/i.test(await page.innerText('body')),
    });
    assert.equal(await login.exited, 0, login.output().stderr);
    assert.equal((await stat(env.HANGAR_CREDENTIALS)).mode & 0o777, 0o600);
    const me = await hangar(['whoami', '--json'], env);
    assert.equal(me.code, 0, me.stderr);
    const success = (await audited('auth.login')).filter((r) => r.outcome === 'success');
    const who = JSON.parse(me.stdout) as { userId: string };
    assert.ok(success.some((r) => r.actor.id === who.userId && r.details.flow === 'device'));
  },
);
