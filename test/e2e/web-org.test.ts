import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import {
  assertAccessible,
  assertClean,
  launchBrowser,
  openPage,
  screenshot,
  signInWithToken,
} from '../support/browser.js';
import { captureLogs } from '../support/capture-logs.js';
import { devcontainer, repository } from '../support/repos.js';
import { execWith, startSystem, type System } from '../support/system.js';

/** A member is added by issuer and subject only: nothing is ever sent to this issuer. */
const issuer = 'http://127.0.0.1:9/realms/dev';
const aliceKey = `oidc:${issuer}#alice`;
const canary = 'web-org-canary-3f9c71d2';

let system: System;
let browser: Browser;
let logs: ReturnType<typeof captureLogs>;

before(
  async () => {
    logs = captureLogs();
    system = await startSystem({ logger: logs.logger });
    browser = await launchBrowser();
  },
  { timeout: 60_000 },
);

after(async () => {
  await browser?.close();
  await system?.close();
});

/** Every file under `dir`, concatenated (one that vanishes while read counts as empty). */
async function everything(dir: string): Promise<Buffer> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries.filter((entry) => entry.isFile());
  const contents = await Promise.all(
    files.map((file) => readFile(join(file.parentPath, file.name)).catch(() => Buffer.alloc(0))),
  );
  return Buffer.concat(contents);
}

/** Everything the page sent to and got from any server, kept for the canary check. */
function recordTraffic(page: Page): { all: () => Promise<string> } {
  const seen: Promise<string>[] = [];
  page.on('request', (request) => {
    seen.push(Promise.resolve(`${request.method()} ${request.url()} ${request.postData() ?? ''}`));
  });
  page.on('response', (response) => {
    seen.push(response.text().catch(() => ''));
  });
  return { all: async () => (await Promise.all(seen)).join('\n') };
}

async function status(section: Locator, text: string): Promise<void> {
  await section.getByRole('status').filter({ hasText: text }).waitFor();
}

async function members(page: Page): Promise<void> {
  const section = page.locator('#members');
  await section.getByRole('table', { name: 'Members and their roles' }).waitFor();
  await section.getByLabel('Issuer URL').fill(issuer);
  await section.getByLabel('Subject').fill('alice');
  await section.getByLabel('Role', { exact: true }).selectOption('member');
  await section.getByRole('button', { name: 'Add member' }).click();
  await status(section, `Added ${aliceKey} as member.`);
  assert.equal(await section.getByLabel('Subject').inputValue(), '', 'the form starts again');
  const row = section.locator(`tr[data-member="${aliceKey}"]`);
  await assertAccessible(page, 'organization: members');
  await screenshot(page, 'web-org-members');

  await row.getByLabel(`Role of ${aliceKey}`).selectOption('admin');
  await row.getByRole('button', { name: `Change role of ${aliceKey}` }).click();
  await status(section, `${aliceKey} is now admin.`);
  const listed = await system.api<{ members: { externalKey: string; role: string }[] }>(
    'GET',
    '/v1/members',
  );
  assert.equal(listed.body.members.find((m) => m.externalKey === aliceKey)?.role, 'admin');

  await row.getByRole('button', { name: `Remove ${aliceKey}` }).click();
  const confirm = row.getByRole('group', { name: `Confirm removing ${aliceKey}` });
  await confirm.getByText(/sessions and SSH keys end at once, and their environments/).waitFor();
  await assertAccessible(page, 'organization: confirm removal');
  await screenshot(page, 'web-org-members-remove');
  await confirm.getByRole('button', { name: `Yes, remove ${aliceKey}` }).click();
  await status(section, `Removed ${aliceKey}: their tokens, sessions and SSH keys have ended`);
  await row.getByText('removed').waitFor();
  const after = await system.api<{ members: { externalKey: string; removedAt?: string }[] }>(
    'GET',
    '/v1/members',
  );
  assert.ok(after.body.members.find((m) => m.externalKey === aliceKey)?.removedAt);
}

async function policies(page: Page): Promise<void> {
  const section = page.locator('#policy');
  await section.getByText('any class a runner offers', { exact: true }).waitFor();
  await section.getByLabel('Allowed classes').fill('small');
  await section.getByLabel('Stop idle environments after (minutes)').fill('45');
  await section.getByRole('button', { name: 'Save policies' }).click();
  await status(section, 'Saved: allowedClasses, idleStopAfterMin.');
  await section.locator('dl.rules').getByText('after 45 minutes').waitFor();
  await section.locator('dl.rules code', { hasText: /^small$/ }).waitFor();
  const { body } = await system.api<{ allowedClasses?: string[]; idleStopAfterMin?: number }>(
    'GET',
    '/v1/org/policy',
  );
  assert.deepEqual([body.allowedClasses, body.idleStopAfterMin], [['small'], 45]);

  const projects = '[{"name": "pay", "repositoryPatterns": ["/srv/**"], "runners": ["nowhere"]}]';
  await section.getByLabel('Projects').fill(projects);
  await section.getByRole('button', { name: 'Save policies' }).click();
  await section
    .getByRole('alert')
    .filter({ hasText: /^The policy was not changed: .*nowhere/ })
    .waitFor();
  await assertAccessible(page, 'organization: policies');
  await screenshot(page, 'web-org-policy');

  // The policy in force refuses, and the refusal names it, on the environments page too.
  await page.getByRole('link', { name: 'Environments' }).click();
  await page.getByLabel('Repository URL').fill('/srv/none');
  await page.getByLabel('Class (optional)').fill('large');
  await page.getByRole('button', { name: 'Create environment' }).click();
  await page
    .getByRole('alert')
    .filter({ hasText: 'organization policy allowedClasses does not allow class large' })
    .waitFor();
  await screenshot(page, 'web-org-policy-refusal');
  await page.getByRole('link', { name: 'Organization' }).click();
}

/** The fingerprint the runner logged for its encryption key, as an operator would read it. */
function loggedRunnerFingerprint(): string {
  const line = logs
    .text()
    .split('\n')
    .find((item) => item.includes('secrets are sealed to this encryption key'));
  const parsed = JSON.parse(line ?? '{}') as { encryptionKeyFingerprint?: string };
  assert.ok(parsed.encryptionKeyFingerprint, 'the runner logged its key');
  return parsed.encryptionKeyFingerprint;
}

/** Run in the page: finds the stored signing key and tries to export its private half. */
const signingKeyProbe = `(async () => {
  const db = await new Promise((resolve, reject) => {
    const request = indexedDB.open('hangar-keys');
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(new Error('no key database'));
  });
  const all = await new Promise((resolve, reject) => {
    const request = db.transaction('keys').objectStore('keys').getAll();
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(new Error('no keys'));
  });
  const stored = all.find((item) => item && item.privateKey instanceof CryptoKey);
  if (!stored) return { found: false, extractable: true, exported: true };
  const exported = await crypto.subtle.exportKey('pkcs8', stored.privateKey).then(
    () => true,
    () => false,
  );
  return { found: true, extractable: stored.privateKey.extractable, exported };
})()`;

async function secrets(page: Page): Promise<void> {
  const section = page.locator('#secrets');
  await section.getByText('No secrets yet').waitFor();
  await section.getByLabel('Name', { exact: true }).fill('WEB_CANARY');
  await section.getByLabel('Value', { exact: true }).fill(canary);
  await section.getByRole('button', { name: 'Seal and set secret' }).click();
  const sealed = section.locator('.sealed');
  await sealed.waitFor();
  const shown = await sealed.locator('li .fingerprint').allTextContents();
  assert.deepEqual(shown, [loggedRunnerFingerprint()]);
  await sealed.getByText('first seal to this runner from this browser: pinned now').waitFor();
  await sealed.getByText(/made and registered now/).waitFor();
  const row = section.locator('tr[data-secret="WEB_CANARY"]');
  await row.getByText('environment variable').waitFor();
  assert.equal(
    await section.getByLabel('Value', { exact: true }).inputValue(),
    '',
    'the value field is cleared',
  );
  await assertAccessible(page, 'organization: secrets');
  await screenshot(page, 'web-org-secrets');

  // The signing key is in IndexedDB and its private half cannot be exported.
  const key = await page.evaluate<{ found: boolean; extractable: boolean; exported: boolean }>(
    signingKeyProbe,
  );
  assert.deepEqual(key, { found: true, extractable: false, exported: false });
}

test(
  'organization page: members, policies, and a secret sealed in the browser reaches printenv',
  { timeout: 300_000 },
  async () => {
    const repo = await repository(system.dir, 'web-org-repo', {
      files: { '.devcontainer/devcontainer.json': devcontainer({}) },
    });
    const watched = await openPage(browser);
    const { page } = watched;
    const traffic = recordTraffic(page);
    await signInWithToken(page, system.cp.url, system.token);
    await page.getByRole('link', { name: 'Organization' }).click();
    await page.getByRole('heading', { name: 'Organization', level: 1 }).waitFor();

    await members(page);
    await policies(page);
    await secrets(page);

    const environment = await system.createAndWait({ repository: { url: repo.dir } });
    const grant = await system.grant(environment.id, ['exec']);
    const printed = await execWith(grant, environment.id, ['printenv', 'WEB_CANARY']);
    assert.equal(printed.out.toString('utf8').trim(), canary);

    const section = page.locator('#secrets');
    const row = section.locator('tr[data-secret="WEB_CANARY"]');
    await row.getByRole('button', { name: 'Delete user secret WEB_CANARY' }).click();
    await row.getByRole('button', { name: 'Yes, delete user secret WEB_CANARY' }).click();
    await status(section, 'Deleted user secret WEB_CANARY.');
    await section.getByText('No secrets yet').waitFor();

    const seenByPage = await traffic.all();
    assert.ok(seenByPage.includes('"envelope"'), 'the page sent sealed copies');
    assert.ok(!seenByPage.includes(canary), 'the value in a request or response of the page');
    const files = await everything(join(system.dir, 'control-plane'));
    assert.ok(files.length > 0);
    assert.ok(!files.includes(canary), 'the value in a control plane file');
    assert.ok(!logs.text().includes(canary), 'the value in a log line');
    assertClean(watched);
    await page.context().close();
  },
);
