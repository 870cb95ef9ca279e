import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import {
  assertAccessible,
  assertClean,
  launchBrowser,
  openPage,
  screenshot,
} from '../support/browser.js';
import { devcontainer, repository } from '../support/repos.js';
import { startSystem, type System } from '../support/system.js';

let system: System;
let browser: Browser;

before(
  async () => {
    system = await startSystem();
    browser = await launchBrowser();
  },
  { timeout: 60_000 },
);

after(async () => {
  await browser?.close();
  await system?.close();
});

async function phaseOf(page: Page, name: string, phase: string): Promise<void> {
  await page
    .locator(`tr[data-environment="${name}"] [data-phase="${phase}"]`)
    .waitFor({ timeout: 120_000 });
}

test('the dashboard is served with a strict CSP, and unknown files are 404', async () => {
  const index = await fetch(`${system.cp.url}/`);
  assert.equal(index.status, 200);
  assert.match(index.headers.get('content-type') ?? '', /^text\/html/);
  const csp = index.headers.get('content-security-policy') ?? '';
  assert.match(csp, /script-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  const gateway = new URL(system.runner.gatewayUrl).origin;
  const connect = /connect-src ([^;]+)/.exec(csp)?.[1]?.split(' ') ?? [];
  assert.deepEqual(connect, ["'self'", gateway, gateway.replace(/^http/, 'ws')]);
  assert.doesNotMatch(csp.replace(/connect-src [^;]+/, ''), /https?:|wss?:/);
  const html = await index.text();
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'an inline script');
  const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
  assert.ok(script, html);
  const asset = await fetch(`${system.cp.url}${script}`);
  assert.equal(asset.status, 200);
  assert.match(asset.headers.get('content-type') ?? '', /^text\/javascript/);
  for (const path of ['/assets/missing.js', '/assets/..%2F..%2Fpackage.json', '/assets/x.map']) {
    const missing = await fetch(`${system.cp.url}${path}`);
    assert.equal(missing.status, 404, path);
    assert.equal(((await missing.json()) as { code: string }).code, 'not_found');
  }
});

test(
  'sign in with the token, create an environment, watch it run, stop it, delete it',
  { timeout: 300_000 },
  async () => {
    const repo = await repository(system.dir, 'web-repo', {
      files: { '.devcontainer/devcontainer.json': devcontainer({}) },
    });
    const watched = await openPage(browser);
    const { page } = watched;
    await page.goto(`${system.cp.url}/`);
    await page.getByRole('heading', { name: 'Sign in to Hangar' }).waitFor();
    await assertAccessible(page, 'sign in');

    await page.keyboard.press('Tab');
    const focused = await page.evaluate('document.activeElement?.getAttribute("name")');
    assert.equal(focused, 'token', 'the token field is the first stop of the keyboard');
    await page.keyboard.type('hgr_not-a-real-token');
    await page.keyboard.press('Enter');
    await page.getByRole('alert').filter({ hasText: 'The token was refused' }).waitFor();
    await page.getByLabel('API token').fill(system.token);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Environments', level: 1 }).waitFor();
    const cookies = await page.context().cookies();
    assert.equal(cookies.length, 1);
    assert.equal(cookies[0]?.name, 'hangar_session');
    assert.equal(cookies[0]?.httpOnly, true);
    assert.equal(cookies[0]?.sameSite, 'Strict');
    assert.notEqual(cookies[0]?.value, system.token, 'a session of its own, not the token');
    const stored = await page.evaluate<string>(
      'JSON.stringify({ ...sessionStorage, ...localStorage })',
    );
    assert.ok(!stored.includes(system.token) && !stored.includes('hgr_'), stored);
    assert.equal(await page.evaluate<string>('document.cookie'), '', 'scripts cannot read it');
    await page.getByText('No environments yet').waitFor();

    await page.getByLabel('Repository URL').fill(repo.dir);
    await page.getByLabel('Ref (branch, tag or commit; optional)').fill(repo.defaultBranch);
    await page.getByLabel('Name (optional)').fill('from-browser');
    await page.getByRole('button', { name: 'Create environment' }).click();
    await phaseOf(page, 'from-browser', 'running');
    await assertAccessible(page, 'environments');
    await screenshot(page, 'web-dashboard-running');

    await page.getByRole('button', { name: 'Stop from-browser' }).click();
    await phaseOf(page, 'from-browser', 'stopped');
    const { body } = await system.api<{
      environments: { name: string; status: { phase: string } }[];
    }>('GET', '/v1/environments');
    assert.equal(body.environments.find((e) => e.name === 'from-browser')?.status.phase, 'stopped');
    await screenshot(page, 'web-dashboard-stopped');

    await page.getByRole('button', { name: 'Delete from-browser' }).click();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('button', { name: 'Delete from-browser' }).click();
    await page.getByRole('button', { name: 'Yes, delete from-browser' }).click();
    await page.locator('tr[data-environment="from-browser"]').waitFor({
      state: 'detached',
      timeout: 120_000,
    });

    assertClean(watched);
    await page.context().close();
  },
);
