import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import type { AuditRecord } from '@hangar/api';
import type { TestControlPlane } from '@hangar/control-plane/testing/harness.js';
import { playStep } from '@hangar/control-plane/testing/oidc-browser.js';
import type { TestOidcProvider } from '@hangar/control-plane/testing/oidc-provider.js';
import {
  assertAccessible,
  assertClean,
  launchBrowser,
  openPage,
  screenshot,
} from '../support/browser.js';
import { startSignInSetup } from '../support/oidc.js';

let t: TestControlPlane;
let provider: TestOidcProvider;
let browser: Browser;

before(
  async () => {
    ({ t, provider } = await startSignInSetup());
    browser = await launchBrowser();
  },
  { timeout: 60_000 },
);

after(async () => {
  await browser?.close();
  await provider?.close();
  await t?.close();
});

async function audited(action: string): Promise<AuditRecord[]> {
  const page = await t.request<{ records: AuditRecord[] }>('GET', `/v1/audit?action=${action}`);
  return page.body.records;
}

test(
  'single sign-on from the dashboard: the provider, back to the page, a cookie session',
  { timeout: 120_000 },
  async () => {
    const watched = await openPage(browser);
    const { page } = watched;
    await page.goto(`${t.url}/`);
    await page.getByRole('heading', { name: 'Sign in to Hangar' }).waitFor();
    await assertAccessible(page, 'sign in');
    await page.getByLabel('Organization (optional when there is one)').fill('test');
    assert.deepEqual(watched.blocked, []);
    await page.getByRole('button', { name: 'Sign in with single sign-on' }).click();
    await page.waitForURL((url) => url.origin === new URL(provider.issuer).origin);
    for (let step = 0; step < 5 && !page.url().startsWith(t.url); step += 1) {
      await playStep(page, { subject: 'web-person' });
    }
    // The provider's own login page asks for a web font (refused); only Hangar's pages count.
    watched.blocked.length = 0;
    await page.getByRole('navigation', { name: 'Pages' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/', 'the callback address is replaced');
    await page.getByText('(member)').waitFor();
    await screenshot(page, 'web-sign-in-sso');

    // The provider shares the host name (another port), and with it the cookie jar.
    const cookies = (await page.context().cookies(t.url)).filter(
      (cookie) => cookie.name === 'hangar_session',
    );
    assert.equal(cookies.length, 1);
    assert.equal(cookies[0]?.httpOnly, true);
    assert.equal(cookies[0]?.sameSite, 'Strict');
    const stored = await page.evaluate<string>(
      'JSON.stringify({ ...sessionStorage, ...localStorage })',
    );
    assert.equal(stored, '{}', 'nothing of the sign-in is left in the tab');
    const logins = await audited('auth.login');
    const login = logins.find(
      (record) => record.details?.flow === 'browser' && record.outcome === 'success',
    );
    assert.ok(login, JSON.stringify(logins));
    assert.equal(login.details.handoff, `${t.url}/sign-in/callback`, 'where the code went');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Hangar' }).waitFor();
    const left = await page.context().cookies(t.url);
    assert.deepEqual(
      left.filter((cookie) => cookie.name === 'hangar_session'),
      [],
    );
    assert.ok((await audited('auth.logout')).some((record) => record.actor.id === login.actor.id));
    assertClean(watched);
    await page.context().close();
  },
);

test('a callback the tab did not start is refused with a clear message', async () => {
  const watched = await openPage(browser);
  const { page } = watched;
  await page.goto(`${t.url}/sign-in/callback?code=${'a'.repeat(43)}`);
  await page
    .getByRole('alert')
    .filter({ hasText: 'this sign-in was not started in this tab' })
    .waitFor();
  assert.equal(new URL(page.url()).pathname, '/');
  assert.deepEqual(await page.context().cookies(t.url), []);
  // Text a link brings is never shown in the sign-in page.
  await page.goto(
    `${t.url}/sign-in/callback?error=access_denied&error_description=call+1-555-0100+now`,
  );
  await page
    .getByRole('alert')
    .filter({ hasText: 'this sign-in was not started in this tab' })
    .waitFor();
  assert.equal(await page.getByText('1-555-0100').count(), 0);
  assertClean(watched);
  await page.context().close();
});
