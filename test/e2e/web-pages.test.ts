import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { Environment } from '@hangar/api';
import { addUser } from '@hangar/control-plane/testing/users.js';
import {
  assertAccessible,
  assertClean,
  launchBrowser,
  openPage,
  screenshot,
  signInWithToken,
} from '../support/browser.js';
import { startSystem, type System } from '../support/system.js';

let system: System;
let browser: Browser;
let environment: Environment;

before(
  async () => {
    system = await startSystem();
    environment = await system.createAndWait({ name: 'pages' });
    browser = await launchBrowser();
  },
  { timeout: 120_000 },
);

after(async () => {
  await browser?.close();
  await system?.close();
});

/** What 200% zoom of a 1280-pixel window leaves: 640 CSS pixels. */
const zoomed = { width: 640, height: 900 };

/** The page scrolls down, never sideways (WCAG reflow); wide tables scroll in their own box. */
async function assertReflows(page: Page, view: string): Promise<void> {
  const widths = await page.evaluate<{ scroll: number; inner: number; wide: string[] }>(
    `({
      scroll: document.documentElement.scrollWidth,
      inner: window.innerWidth,
      wide: [...document.querySelectorAll('body *')]
        .filter((e) => e.getBoundingClientRect().right > window.innerWidth && !e.closest('.table-scroll'))
        .slice(0, 5)
        .map((e) => e.tagName + '.' + e.className + ' ' + e.getBoundingClientRect().right),
    })`,
  );
  assert.ok(
    widths.scroll <= widths.inner + 1,
    `${view}: ${widths.scroll} > ${widths.inner}: ${widths.wide.join(', ')}`,
  );
}

/** Waits until nothing on the page says it is loading (live pages keep long polls open). */
async function settled(page: Page): Promise<void> {
  const loading = page.getByRole('status').filter({ hasText: /^Loading / });
  for (let i = 0; i < 100 && (await loading.count()) > 0; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal(await loading.count(), 0, 'the page finished loading');
}

/** Tabs through the page from the top and returns the accessible names of what took focus. */
async function tabStops(page: Page, count: number): Promise<string[]> {
  await page.evaluate('document.activeElement?.blur(); window.scrollTo(0, 0)');
  const names: string[] = [];
  for (let i = 0; i < count; i += 1) {
    await page.keyboard.press('Tab');
    names.push(
      await page.evaluate<string>(
        `(() => { const e = document.activeElement; return e ? (e.getAttribute('aria-label') ||
          e.textContent || e.getAttribute('name') || e.tagName).trim().slice(0, 60) : '' })()`,
      ),
    );
  }
  return names;
}

const pages = [
  { path: '/', heading: 'Environments', name: 'environments' },
  { path: '/agents', heading: 'Agents', name: 'agents' },
  { path: '/audit', heading: 'Audit', name: 'audit' },
  { path: '/runners', heading: 'Runners', name: 'runners' },
  { path: '/org', heading: 'Organization', name: 'org' },
];

test(
  'every page at 200% zoom: no sideways scroll, no serious axe finding, reachable by keyboard',
  { timeout: 180_000 },
  async () => {
    const watched = await openPage(browser);
    const { page } = watched;
    await page.setViewportSize(zoomed);
    await signInWithToken(page, system.cp.url, system.token);
    for (const { path, heading, name } of [
      ...pages,
      { path: `/environments/${environment.id}`, heading: 'pages', name: 'environment' },
    ]) {
      await page.goto(`${system.cp.url}${path}`);
      await page.getByRole('heading', { level: 1, name: heading }).first().waitFor();
      await settled(page);
      await assertAccessible(page, name);
      await assertReflows(page, name);
      await screenshot(page, `web-pages-zoomed-${name}`);
      const stops = await tabStops(page, 4);
      assert.equal(stops[0], 'Skip to content', `${name}: the skip link comes first`);
      assert.ok(stops.includes('Environments'), `${name}: the page links are reachable`);
    }
    const nowhere = await page.goto(`${system.cp.url}/nowhere`);
    assert.equal(nowhere?.status(), 404, 'a path of no page is not the dashboard');
    assertClean(watched);
    await page.context().close();
  },
);

test('the skip link moves focus to the page content', async () => {
  const watched = await openPage(browser);
  const { page } = watched;
  await signInWithToken(page, system.cp.url, system.token);
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  const focused = await page.evaluate<string>('document.activeElement?.id ?? ""');
  assert.equal(focused, 'content');
  assertClean(watched);
  await page.context().close();
});

test('an auditor sees the audit page only; other pages are not offered', async () => {
  const auditor = await addUser(system.cp.context, { orgId: system.orgId, role: 'auditor' });
  const watched = await openPage(browser);
  const { page } = watched;
  await signInWithToken(page, system.cp.url, auditor.token);
  await page.getByRole('heading', { level: 1, name: 'Audit' }).waitFor();
  const links = await page.getByRole('navigation', { name: 'Pages' }).getByRole('link').all();
  assert.deepEqual(await Promise.all(links.map((link) => link.innerText())), ['Audit']);
  await assertAccessible(page, 'audit as auditor');
  await screenshot(page, 'web-pages-auditor');
  assertClean(watched);
  await page.context().close();
});
