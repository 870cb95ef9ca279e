import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Where browser tests save their screenshots (ignored by git). */
export const resultsDir = fileURLToPath(new URL('../../../test-results/', import.meta.url));

const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Debian's Chromium, headless, with nothing that reaches beyond this machine. */
export async function launchBrowser(): Promise<Browser> {
  await mkdir(resultsDir, { recursive: true });
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: chromiumArgs,
  });
}

export interface WatchedPage {
  page: Page;
  /** Requests to anything but 127.0.0.1, aborted. */
  blocked: string[];
  /** Console messages about the Content-Security-Policy. */
  cspViolations: string[];
  /** Uncaught errors of the page's scripts. */
  pageErrors: string[];
}

/** A page in a fresh context that may reach 127.0.0.1 only; everything else is aborted. */
export async function openPage(browser: Browser): Promise<WatchedPage> {
  const context = await browser.newContext();
  const blocked: string[] = [];
  const cspViolations: string[] = [];
  const pageErrors: string[] = [];
  await context.route('**/*', async (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1') return route.continue();
    blocked.push(url.href);
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
  });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  return { page, blocked, cspViolations, pageErrors };
}

/** Runs axe-core in the page and fails on any serious or critical violation. */
export async function assertAccessible(page: Page, view: string): Promise<void> {
  const require = createRequire(import.meta.url);
  const axeSource = await readFile(require.resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (
      globalThis as unknown as {
        axe: {
          run(): Promise<{
            violations: { id: string; impact?: string | null; nodes: { target: unknown }[] }[];
          }>;
        };
      }
    ).axe;
    const result = await axe.run();
    return result.violations.map(({ id, impact, nodes }) => ({
      id,
      impact: impact ?? null,
      targets: nodes.map((node) => JSON.stringify(node.target)).slice(0, 5),
    }));
  });
  const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(serious, [], `${view}: ${JSON.stringify(serious)}`);
}

/** Signs the page in with an API token through the sign-in form, and waits for the first page. */
export async function signInWithToken(page: Page, baseUrl: string, token: string): Promise<void> {
  await page.goto(`${baseUrl}/`);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('navigation', { name: 'Pages' }).waitFor();
}

/** Saves a full-page screenshot as test-results/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `${resultsDir}${name}.png`, fullPage: true });
}

/** Asserts the page reached nothing off this machine, broke no CSP rule and threw nothing. */
export function assertClean(watched: WatchedPage): void {
  assert.deepEqual(watched.blocked, [], 'requests off this machine');
  assert.deepEqual(watched.cspViolations, [], 'CSP violations');
  assert.deepEqual(watched.pageErrors, [], 'uncaught page errors');
}
