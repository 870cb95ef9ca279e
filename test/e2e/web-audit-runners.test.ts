import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import type { Browser, Page } from 'playwright-core';
import {
  publicKeyObject,
  verifyChain,
  type AuditExport,
  type AuditRecord,
  type Environment,
  type Runner,
} from '@hangar/api';
import { addUser } from '@hangar/control-plane/testing/users.js';
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
let environment: Environment;

before(
  async () => {
    system = await startSystem();
    browser = await launchBrowser();
    const repo = await repository(system.dir, 'audited-repo', {
      files: { '.devcontainer/devcontainer.json': devcontainer({}) },
    });
    environment = await system.createAndWait({
      name: 'audited',
      repository: { url: repo.dir, ref: repo.defaultBranch },
    });
    const stopped = await system.api('POST', `/v1/environments/${environment.id}/stop`);
    assert.equal(stopped.status, 202, JSON.stringify(stopped.body));
    await system.waitFor(environment.id, 'stopped');
    // Enough records for a second page of ten.
    for (let index = 0; index < 12; index += 1) {
      const made = await system.api('POST', '/v1/tokens', {
        scopes: ['audit:read'],
        expiresInS: 600,
      });
      assert.equal(made.status, 201, JSON.stringify(made.body));
    }
  },
  { timeout: 180_000 },
);

after(async () => {
  await browser?.close();
  await system?.close();
});

async function auditRecords(query: string): Promise<AuditRecord[]> {
  const { status, body } = await system.api<{ records: AuditRecord[] }>(
    'GET',
    `/v1/audit?${query}`,
  );
  assert.equal(status, 200, JSON.stringify(body));
  return body.records;
}

async function filter(page: Page, fields: Record<string, string>): Promise<void> {
  const labels: Record<string, RegExp> = {
    actor: /^Actor id/,
    action: /^Action \(/,
    target: /^Target id/,
    since: /^Since/,
  };
  await page.getByRole('button', { name: 'Clear filters' }).click();
  for (const [name, value] of Object.entries(fields)) {
    const label = labels[name];
    assert.ok(label, name);
    await page.getByLabel(label).fill(value);
  }
  await page.getByRole('button', { name: 'Apply filters' }).click();
}

/** Follows a link of the page navigation (an environment named like a page must not match). */
async function goTo(page: Page, name: string): Promise<void> {
  const nav = page.getByRole('navigation', { name: 'Pages' });
  await nav.getByRole('link', { name, exact: true }).click();
}

/**
 * Waits until the focused element's text is `text`. It polls with `page.evaluate`, which runs
 * over the DevTools protocol: `waitForFunction` with a string would eval inside the page, which
 * the dashboard's CSP forbids.
 */
async function focusReaches(page: Page, text: string): Promise<void> {
  const deadlineMs = Date.now() + 10_000;
  for (;;) {
    const focused = await page.evaluate<string | undefined>('document.activeElement?.textContent');
    if (focused === text) return;
    assert.ok(Date.now() < deadlineMs, `focus on "${focused}", not "${text}"`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function rowsOf(page: Page) {
  return page.locator('table.audit tbody tr');
}

async function actionsShown(page: Page): Promise<string[]> {
  return rowsOf(page).locator('td:nth-of-type(3)').allTextContents();
}

test(
  'audit page: filters, a record in full, the chain verified in the browser, a tampered row ' +
    'found at its seq, and the JSON Lines download',
  { timeout: 240_000 },
  async () => {
    const watched = await openPage(browser);
    const { page } = watched;
    await signInWithToken(page, system.cp.url, system.token);
    const userId = (await page.locator('.who code').textContent()) ?? '';
    assert.match(userId, /^usr_/);
    await goTo(page, 'Audit');
    await page.getByRole('heading', { name: 'Audit', level: 1 }).waitFor();
    const verified = page.locator('[data-verification="verified"]');
    await verified.waitFor({ timeout: 30_000 });
    assert.match((await verified.textContent()) ?? '', /Verified: \d+ records, \d+ signed/);
    await rowsOf(page).first().waitFor();
    await assertAccessible(page, 'audit');
    await screenshot(page, 'web-audit-verified');

    const [created] = await auditRecords(`action=environment.create&target=${environment.id}`);
    assert.ok(created);
    await filter(page, { action: 'environment.create', target: environment.id });
    await page.locator(`table.audit tbody tr[data-seq="${created.seq}"]`).waitFor();
    assert.equal(await rowsOf(page).count(), 1);

    await filter(page, { actor: userId, action: 'environment.*' });
    await rowsOf(page).filter({ hasText: 'environment.stop' }).waitFor();
    const mine = await actionsShown(page);
    assert.ok(mine.includes('environment.create'), mine.join());
    assert.ok(
      mine.every((action) => action.startsWith('environment.')),
      mine.join(),
    );

    const inAMinute = new Date(Date.now() + 120_000);
    const local = (date: Date) =>
      new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
    await filter(page, { target: environment.id, since: local(inAMinute) });
    await page.getByText('No audit records match these filters.').waitFor();

    await filter(page, { target: environment.id });
    await page.getByRole('button', { name: `Show record ${created.seq}` }).click();
    const detail = page.locator('.record-detail');
    await detail
      .getByRole('heading', { name: `Record ${created.seq}: environment.create` })
      .waitFor();
    await focusReaches(page, `Record ${created.seq}: environment.create`);
    const shown = (await detail.textContent()) ?? '';
    for (const value of [
      created.hash,
      created.prevHash,
      created.requestId,
      created.sourceAddress,
      created.time,
      created.actor.id,
      environment.id,
    ]) {
      assert.ok(shown.includes(value), `the detail shows ${value}`);
    }
    assert.match(shown, /Actor kinduser/);
    assert.match(shown, /Outcomesuccess/);
    await assertAccessible(page, 'audit record detail');
    await screenshot(page, 'web-audit-detail');
    await page.getByRole('button', { name: `Close record ${created.seq}` }).click();
    await detail.waitFor({ state: 'detached' });
    await focusReaches(page, `Show record ${created.seq}`);

    await page.getByRole('button', { name: 'Clear filters' }).click();
    await page.getByLabel('Records per page').selectOption('10');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByText('Audit records, page 1 (seq 1 to 10)').waitFor();
    await page.getByRole('button', { name: 'Next page' }).click();
    await page.getByText(/^Audit records, page 2 \(seq 11 to \d+\)$/).waitFor();
    await page.getByRole('button', { name: 'Previous page' }).click();
    await page.getByText('Audit records, page 1 (seq 1 to 10)').waitFor();

    const verifiedText = (await verified.textContent()) ?? '';
    const recordCount = Number(/Verified: (\d+) records/.exec(verifiedText)?.[1]);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download records (JSON Lines)' }).click(),
    ]);
    assert.match(download.suggestedFilename(), /^hangar-audit-org_[0-9a-z]+-[0-9T-]+Z\.jsonl$/);
    const lines = (await readFile(await download.path(), 'utf8')).trimEnd().split('\n');
    assert.equal(lines.length, recordCount);
    const downloaded = lines.map((line) => JSON.parse(line) as AuditRecord);
    assert.deepEqual(
      downloaded.map((record) => record.seq),
      Array.from({ length: recordCount }, (_, index) => index + 1),
    );
    assert.deepEqual(downloaded[created.seq - 1], created);

    const [saved] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download the export (JSON)' }).click(),
    ]);
    assert.match(saved.suggestedFilename(), /^hangar-audit-org_[0-9a-z]+-[0-9T-]+Z\.json$/);
    const file = JSON.parse(await readFile(await saved.path(), 'utf8')) as AuditExport;
    const health = await system.api<{ publicKey: string }>('GET', '/v1/health');
    const offline = verifyChain(
      file.records,
      file.checkpoints,
      publicKeyObject(health.body.publicKey),
    );
    assert.equal(offline.ok, true, 'the saved export verifies as `hangar audit verify --file`');
    assert.equal(offline.records, recordCount);

    await auditorSeesTheChain();

    const db = new Database(join(system.dir, 'control-plane', 'control-plane.db'));
    try {
      db.prepare('UPDATE audit_records SET details = ? WHERE seq = ?').run(
        '{"edited":true}',
        created.seq,
      );
    } finally {
      db.close();
    }
    await page.getByRole('button', { name: 'Verify again' }).click();
    const broken = page.locator(`[data-verification="broken"][data-seq="${created.seq}"]`);
    await broken.waitFor({ timeout: 30_000 });
    assert.match(
      (await broken.textContent()) ?? '',
      new RegExp(`Broken at record seq ${created.seq}: its contents do not match its hash`),
    );
    await filter(page, { target: environment.id });
    await page
      .locator(`tr.broken[data-seq="${created.seq}"]`)
      .getByText('fails verification')
      .waitFor();
    await assertAccessible(page, 'audit, chain broken');
    await screenshot(page, 'web-audit-broken');

    assertClean(watched);
    await page.context().close();
  },
);

test(
  'runners page: the runner online with its key, a new runner and its token shown once, ' +
    'disable and enable, key rotation',
  { timeout: 180_000 },
  async () => {
    const watched = await openPage(browser);
    const { page } = watched;
    await signInWithToken(page, system.cp.url, system.token);
    await goTo(page, 'Runners');
    await page.getByRole('heading', { name: 'Runners', level: 1 }).waitFor();
    const { body } = await system.api<{ runners: Runner[] }>('GET', '/v1/runners');
    const local = body.runners.find((runner) => runner.name === 'local');
    assert.ok(local?.publicKeyFingerprint);
    const localRow = page.locator('tr[data-runner="local"]');
    await localRow.locator('[data-state="online"]').waitFor();
    assert.equal(await localRow.locator('.fingerprint').textContent(), local.publicKeyFingerprint);
    assert.equal(await localRow.locator('[data-environments]').textContent(), '1');
    await assertAccessible(page, 'runners');
    await screenshot(page, 'web-runners');

    await page.getByLabel('Runner name').fill('build-box-2');
    await page.getByRole('button', { name: 'Create runner' }).click();
    const heading = page.getByRole('heading', { name: 'Runner build-box-2 created' });
    await heading.waitFor();
    await focusReaches(page, 'Runner build-box-2 created');
    const token = (await page.locator('[data-enrollment-token]').textContent()) ?? '';
    assert.match(token, /^hge_enr_[0-9a-z]+_[A-Za-z0-9_-]+$/);
    const command = (await page.locator('pre.command').textContent()) ?? '';
    assert.equal(
      command,
      `npx hangar runner --control-plane ${system.cp.url} --enroll ${token} ` +
        '--data-dir /var/lib/hangar-runner-build-box-2',
    );
    const newRow = page.locator('tr[data-runner="build-box-2"]');
    await newRow.locator('[data-state="pending"]').waitFor();
    await assertAccessible(page, 'runners, new token');
    await screenshot(page, 'web-runners-token');

    await page.getByRole('button', { name: 'I have copied it: hide the token' }).click();
    await heading.waitFor({ state: 'detached' });
    assert.ok(!(await page.content()).includes(token), 'the token is gone once dismissed');
    const stored = await page.evaluate<string>(
      'JSON.stringify({ ...sessionStorage, ...localStorage, url: location.href })',
    );
    assert.ok(!stored.includes('hge_'), stored);

    await page.getByLabel('Runner name').fill('build-box-3');
    await page.getByRole('button', { name: 'Create runner' }).click();
    await page.getByRole('heading', { name: 'Runner build-box-3 created' }).waitFor();
    const third = (await page.locator('[data-enrollment-token]').textContent()) ?? '';
    await goTo(page, 'Audit');
    await page.getByRole('heading', { name: 'Audit', level: 1 }).waitFor();
    await goTo(page, 'Runners');
    await page.locator('tr[data-runner="build-box-3"]').waitFor();
    assert.ok(!(await page.content()).includes(third), 'the token is gone once the page is left');

    const enrolled = await fetch(`${system.cp.url}/v1/runners/enroll`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ enrollmentToken: token, publicKey: rawPublicKey() }),
    });
    assert.equal(enrolled.status, 200, 'the token shown was the real, unused one');
    await newRow.locator('[data-state="offline"]').waitFor();

    await newRow.getByRole('button', { name: 'Disable build-box-2' }).click();
    await newRow.getByRole('button', { name: 'Cancel' }).click();
    await newRow.getByRole('button', { name: 'Disable build-box-2' }).click();
    await newRow.getByRole('button', { name: 'Yes, disable build-box-2' }).click();
    await newRow.locator('[data-state="disabled"]').waitFor();
    await newRow.getByRole('button', { name: 'Enable build-box-2' }).click();
    await newRow.locator('[data-state="offline"]').waitFor();

    await localRow.getByRole('button', { name: 'Rotate key of local' }).click();
    await localRow.getByRole('button', { name: 'Yes, rotate the key of local' }).click();
    await page
      .locator('tr[data-runner="local"] .fingerprint')
      .filter({ hasNotText: local.publicKeyFingerprint })
      .waitFor({ timeout: 30_000 });
    await localRow.locator('[data-state="online"]').waitFor({ timeout: 30_000 });
    const audit = await auditRecords('action=runner.*');
    const actions = audit.map((record) => record.action);
    for (const action of [
      'runner.create',
      'runner.disable',
      'runner.enable',
      'runner.key.rotate',
    ]) {
      assert.ok(actions.includes(action), `${action} in ${actions.join()}`);
    }

    assertClean(watched);
    await page.context().close();
  },
);

/** An auditor lands on the audit page, sees only it, and the chain verifies for them too. */
async function auditorSeesTheChain(): Promise<void> {
  const auditor = await addUser(system.cp.context, { orgId: system.orgId, role: 'auditor' });
  const watched = await openPage(browser);
  const { page } = watched;
  await signInWithToken(page, system.cp.url, auditor.token);
  await page.getByRole('heading', { name: 'Audit', level: 1 }).waitFor();
  const nav = await page
    .getByRole('navigation', { name: 'Pages' })
    .getByRole('link')
    .allTextContents();
  assert.deepEqual(nav, ['Audit']);
  await page.locator('[data-verification="verified"]').waitFor({ timeout: 30_000 });
  await rowsOf(page).first().waitFor();
  assertClean(watched);
  await page.context().close();
}

function rawPublicKey(): string {
  const { publicKey } = generateKeyPairSync('ed25519');
  return publicKey.export({ format: 'jwk' }).x ?? '';
}
