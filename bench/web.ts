import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { createLogger, startControlPlane } from '@hangar/control-plane';
import { bootstrapOwner } from '@hangar/control-plane/services/bootstrap.js';
import { ProtocolRunner } from '@hangar/control-plane/testing/fake-runner.js';
import { addUser } from '@hangar/control-plane/testing/users.js';
import { launchBrowser, signInWithToken } from '#test-support/browser.js';
import { formatFigure, formatRatio, measure } from './stats.js';

const environmentCount = 1000;

async function api(url: string, token: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (!response.ok)
    throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as Record<string, unknown>;
}

/** Loads the environments page and waits until its last row (or its empty note) is on screen. */
async function firstRender(page: Page, url: string, rows: number): Promise<void> {
  await page.goto(`${url}/`);
  if (rows === 0) await page.getByText('No environments yet').waitFor();
  else
    await page
      .locator('tr[data-environment]')
      .nth(rows - 1)
      .waitFor();
}

/**
 * Time to first render of the dashboard's environments page with 1,000 environments, against the
 * same page with none, in the same run: from navigation to the last row on screen, in headless
 * Chromium, against a control plane whose runner speaks the protocol but runs no sandboxes.
 */
export async function webBenchmarks(runs: number, print: (line: string) => void): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'hangar-bench-web-'));
  const cp = await startControlPlane(
    { dataDir, port: 0, logLevel: 'silent' },
    { logger: createLogger({ level: 'silent' }) },
  );
  const browser = await launchBrowser();
  try {
    const busy = await bootstrapOwner(cp.context, { orgName: 'busy', tokenTtlS: 3600 });
    const idle = await addUser(cp.context, { role: 'owner' });
    const made = await api(cp.url, busy.token, 'POST', '/v1/runners', { name: 'bench' });
    const runner = new ProtocolRunner(cp.url);
    await runner.enroll(String(made.enrollmentToken));
    await runner.connect();
    for (let i = 0; i < environmentCount; i += 1) {
      await api(cp.url, busy.token, 'POST', '/v1/environments', { name: `bench-${i}` });
    }
    const pages = [];
    for (const owner of [busy, idle]) {
      const context = await browser.newContext();
      const page = await context.newPage();
      await signInWithToken(page, cp.url, owner.token);
      pages.push(page);
    }
    const [busyPage, idlePage] = pages;
    if (!busyPage || !idlePage) throw new Error('no pages');
    const empty = await measure('baseline: environments page, none', runs, () =>
      firstRender(idlePage, cp.url, 0),
    );
    const full = await measure(`environments page, ${environmentCount} environments`, runs, () =>
      firstRender(busyPage, cp.url, environmentCount),
    );
    print(formatFigure(empty));
    print(formatFigure(full));
    print(formatRatio(`first render, ${environmentCount} vs none`, full, empty));
    runner.socket?.close();
  } finally {
    await browser.close();
    await cp.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}
