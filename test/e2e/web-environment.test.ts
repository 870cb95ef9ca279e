import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page, WebSocketRoute } from 'playwright-core';
import {
  assertAccessible,
  assertClean,
  launchBrowser,
  openPage,
  screenshot,
  signInWithToken,
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

const lifecycleMarker = 'lifecycle-says-hello';
const pageMarker = 'page-from-the-environment';

async function phaseIs(page: Page, phase: string): Promise<void> {
  await page.locator(`.environment-header [data-phase="${phase}"]`).waitFor({ timeout: 120_000 });
}

/** The text on the terminal's screen, row by row (the DOM renderer writes each row). */
async function screenText(page: Page): Promise<string> {
  return page.locator('.xterm-rows').innerText();
}

async function waitForScreen(page: Page, pattern: RegExp, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await screenText(page);
    if (pattern.test(text)) return text;
    if (Date.now() > deadline) assert.fail(`the terminal never showed ${pattern}:\n${text}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`never happened: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function typeLine(page: Page, line: string): Promise<void> {
  await page.keyboard.type(line);
  await page.keyboard.press('Enter');
}

async function terminalSize(page: Page, marker: string): Promise<{ rows: number; cols: number }> {
  await typeLine(page, `echo ${marker}-$(stty size | tr ' ' x)`);
  const text = await waitForScreen(page, new RegExp(`^${marker}-(\\d+)x(\\d+)`, 'm'));
  const match = new RegExp(`^${marker}-(\\d+)x(\\d+)`, 'm').exec(text);
  return { rows: Number(match?.[1]), cols: Number(match?.[2]) };
}

test(
  'an environment page: live phase, logs, terminal that survives a drop, ports, stop and start',
  { timeout: 600_000 },
  async () => {
    const repo = await repository(system.dir, 'env-page-repo', {
      files: {
        '.devcontainer/devcontainer.json': devcontainer({
          postCreateCommand: `echo ${lifecycleMarker}`,
          forwardPorts: [8123],
          portsAttributes: { '8123': { label: 'docs preview' } },
        }),
      },
    });
    const watched = await openPage(browser);
    const { page } = watched;
    const controlPlaneTraffic: string[] = [];
    page.on('request', (request) => {
      if (request.url().startsWith(system.cp.url))
        controlPlaneTraffic.push(request.postData() ?? '');
    });
    page.on('response', (response) => {
      if (!response.url().startsWith(system.cp.url)) return;
      void response.text().then(
        (text) => controlPlaneTraffic.push(text),
        () => undefined,
      );
    });
    const terminalSockets: WebSocketRoute[] = [];
    await page.routeWebSocket(/\/terminal$/, (socket) => {
      terminalSockets.push(socket);
      socket.connectToServer();
    });

    await signInWithToken(page, system.cp.url, system.token);
    await page.getByLabel('Repository URL').fill(repo.dir);
    await page.getByLabel('Name (optional)').fill('page-env');
    await page.getByRole('button', { name: 'Create environment' }).click();
    await page.getByRole('link', { name: 'page-env' }).click();
    await page.getByRole('heading', { name: 'page-env', level: 1 }).waitFor();
    const environmentId = new URL(page.url()).pathname.split('/').pop() ?? '';
    await phaseIs(page, 'running');
    await page.locator('[data-step-row="postCreateCommand"]').waitFor();
    await page.locator('[data-logs]').filter({ hasText: lifecycleMarker }).waitFor();
    await assertAccessible(page, 'environment running');
    await screenshot(page, 'web-environment-running');

    await page.getByRole('button', { name: 'Open a terminal' }).click();
    await page.locator('[data-terminal-state="ready"]').waitFor();
    await typeLine(page, 'echo hello-from-browser');
    await waitForScreen(page, /^hello-from-browser\s*$/m);
    await page.keyboard.press('Tab');
    const kept = await page.evaluate<string>('document.activeElement?.className ?? ""');
    assert.match(kept, /xterm-helper-textarea/, 'Tab goes to the shell');
    await page.keyboard.press('Control+Shift+L');
    const focused = await page.evaluate<string>('document.activeElement?.textContent ?? ""');
    assert.equal(focused, 'Close terminal', 'Ctrl+Shift+L moves focus out of the terminal');
    await page.getByLabel(/Screen reader mode/).check();
    await page
      .locator('.xterm-accessibility-tree')
      .filter({ hasText: 'hello-from-browser' })
      .waitFor();
    await page.locator('.xterm-helper-textarea').focus();
    await assertAccessible(page, 'environment with a terminal');
    await screenshot(page, 'web-environment-terminal');

    const before = await terminalSize(page, 'size-before');
    const screenWidth = async () => (await page.locator('.xterm-screen').boundingBox())?.width ?? 0;
    const widthBefore = await screenWidth();
    const viewport = page.viewportSize() ?? { width: 1280, height: 720 };
    await page.setViewportSize({
      width: Math.round(viewport.width * 0.6),
      height: viewport.height,
    });
    await until(async () => (await screenWidth()) < widthBefore, 'the terminal fits the window');
    const afterResize = await terminalSize(page, 'size-after');
    assert.ok(afterResize.cols < before.cols, `${afterResize.cols} < ${before.cols}`);
    await screenshot(page, 'web-environment-resized');

    // Output made while the connection is down comes back when it reattaches.
    await typeLine(page, 'sleep 2; echo after-the-drop');
    assert.equal(terminalSockets.length, 1);
    await terminalSockets[0]?.close({ code: 4000, reason: 'dropped by the test' });
    await page.locator('[data-terminal-state="reconnecting"]').waitFor();
    await page.locator('[data-terminal-state="ready"]').waitFor();
    await page.getByText('Reattached; nothing was lost.').waitFor();
    const reattached = await waitForScreen(page, /^after-the-drop\s*$/m);
    assert.match(reattached, /^hello-from-browser\s*$/m, 'the output before the drop is kept');
    assert.equal(reattached.match(/^after-the-drop\s*$/gm)?.length, 1, 'shown once');
    assert.equal(terminalSockets.length, 2);
    await screenshot(page, 'web-environment-reattached');

    await typeLine(
      page,
      `echo ${pageMarker} > index.html; python3 -m http.server 8123 >/dev/null 2>&1 &`,
    );
    const row = page.locator('tr[data-port="8123"]');
    await row.locator('[data-loopback="false"]').first().waitFor({ timeout: 30_000 });
    assert.match(await row.innerText(), /python3/);
    assert.match(await row.innerText(), /docs preview/);
    assert.match(await row.innerText(), /all interfaces/);

    const share = page.getByLabel('Share port 8123 with');
    await share.selectOption('public');
    await page.getByRole('alert').filter({ hasText: 'Port 8123 stays as it was' }).waitFor();
    await share.selectOption('org');
    await until(
      async () => (await share.inputValue()) === 'org' && (await share.isEnabled()),
      'port 8123 shared at org',
    );
    await assertAccessible(page, 'environment ports');
    await screenshot(page, 'web-environment-ports');

    const popup = page.context().waitForEvent('page');
    await page.getByRole('button', { name: 'Open port 8123 in a new tab' }).click();
    const opened = await popup;
    await opened.getByText(pageMarker).waitFor({ timeout: 30_000 });
    assert.ok(opened.url().startsWith(new URL(system.runner.gatewayUrl).origin), opened.url());
    assert.doesNotMatch(opened.url(), /hangar_grant/, 'the grant left the address bar');
    await screenshot(opened, 'web-environment-port-opened');
    await opened.close();

    await page.getByRole('button', { name: 'Stop' }).click();
    await phaseIs(page, 'stopped');
    await page.getByText('A terminal opens while the environment runs; it is stopped.').waitFor();
    await assertAccessible(page, 'environment stopped');
    await screenshot(page, 'web-environment-stopped');
    await page.getByRole('button', { name: 'Start' }).click();
    await phaseIs(page, 'running');
    for (const phase of ['stopping', 'stopped', 'running']) {
      await page.locator(`[data-seen-phase="${phase}"]`).first().waitFor();
    }
    await screenshot(page, 'web-environment-started');
    // As narrow as a 1280-pixel window at 200% zoom.
    await page.setViewportSize({ width: 640, height: 900 });
    await assertAccessible(page, 'environment, narrow');
    await screenshot(page, 'web-environment-narrow');

    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('button', { name: 'Yes, delete page-env' }).click();
    await phaseIs(page, 'deleted');
    await page.getByText('This environment was deleted, with its workspace.').waitFor();
    assert.equal(await page.getByRole('heading', { name: 'Connect from your machine' }).count(), 0);
    await page.getByText('The environment is deleted, with its logs.').waitFor();
    await screenshot(page, 'web-environment-deleted');

    // The audit page finds what was done here, people's and the runner's records, verified.
    await page
      .getByRole('navigation', { name: 'Pages' })
      .getByRole('link', { name: 'Audit' })
      .click();
    await page.getByLabel('Target id (environment, runner, token…)').fill(environmentId);
    await page.getByLabel('Records per page').selectOption('100');
    const actions = [
      'environment.create',
      'environment.access',
      'session.start',
      'session.end',
      'environment.logs.read',
      'environment.port.share',
      'environment.stop',
      'environment.start',
      'environment.delete',
    ];
    const shown = async () =>
      (await page.locator('table.audit tbody tr td:nth-child(4)').allInnerTexts()).map((text) =>
        text.trim(),
      );
    // The runner's records (sessions, log reads) reach the control plane a moment later.
    let seen: string[] = [];
    for (let attempt = 0; attempt < 50; attempt += 1) {
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await page.locator('table.audit').waitFor();
      seen = await shown();
      if (actions.every((action) => seen.includes(action))) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.deepEqual(
      actions.filter((action) => !seen.includes(action)),
      [],
      `the audit page lists this environment's records: ${seen.join(', ')}`,
    );
    await page.getByText('Verified', { exact: true }).waitFor();
    await assertAccessible(page, 'audit of the environment');
    await screenshot(page, 'web-environment-audit');

    const leaked = controlPlaneTraffic.filter(
      (text) => text.includes(lifecycleMarker) || text.includes('hello-from-browser'),
    );
    assert.deepEqual(leaked, [], 'log and terminal text never reached the control plane');
    assertClean(watched);
    await page.context().close();
  },
);
