import { chromium, type Browser, type Page } from 'playwright-core';

/** The system Chromium (Debian package `chromium`); tests never download a browser. */
export const chromiumPath = '/usr/bin/chromium';

/**
 * Flags that keep the browser on this machine: every host name resolves to nothing but
 * 127.0.0.1, everything else goes to a proxy that does not exist, and the background services
 * that would phone home are off.
 */
const confinedArgs = [
  '--no-sandbox',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
  '--proxy-server=http://127.0.0.1:9',
  '--proxy-bypass-list=127.0.0.1',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-default-apps',
  '--disable-sync',
  '--no-first-run',
  '--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication',
];

export interface TestBrowser {
  /**
   * Opens `url` and plays the person at the test provider: enters `subject` as the login, fills
   * in the device code when asked, and presses Continue, until `done` holds for the page.
   * Returns the text of the last page.
   */
  signIn(options: {
    url: string;
    subject: string;
    userCode?: string;
    done: (page: Page) => Promise<boolean>;
  }): Promise<string>;
  close(): Promise<void>;
}

/** Headless Chromium whose pages may load from 127.0.0.1 only; every other request fails. */
export async function startTestBrowser(): Promise<TestBrowser> {
  const browser: Browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: confinedArgs,
  });
  const context = await browser.newContext();
  await context.route('**/*', async (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1') await route.continue();
    else await route.abort('blockedbyclient');
  });
  return {
    async signIn(options) {
      const page = await context.newPage();
      try {
        await page.goto(options.url);
        for (let step = 0; step < 10; step += 1) {
          await page.waitForLoadState('load');
          if (await options.done(page)) return await page.innerText('body');
          await playStep(page, options);
        }
        throw new Error(`sign-in did not finish; last page ${page.url()}: ${await bodyOf(page)}`);
      } finally {
        await page.close();
      }
    },
    async close() {
      await context.close();
      await browser.close();
    },
  };
}

async function bodyOf(page: Page): Promise<string> {
  return (await page.innerText('body').catch(() => '')).slice(0, 500);
}

/**
 * One page of the test provider, played as the person: the login form, the device code form or
 * a confirmation.
 */
export async function playStep(page: Page, options: { subject: string; userCode?: string }) {
  const login = page.locator('input[name="login"]');
  const userCode = page.locator('input[name="user_code"]:not([type="hidden"])');
  if ((await login.count()) > 0) {
    await login.fill(options.subject);
    await page.locator('input[name="password"]').fill('any password');
  } else if ((await userCode.count()) > 0 && options.userCode) {
    await userCode.fill(options.userCode);
  }
  const submit = page.locator('button[type="submit"]:not([name="abort"])').first();
  if ((await submit.count()) === 0) {
    throw new Error(`nothing to press on ${page.url()}: ${await bodyOf(page)}`);
  }
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), submit.click()]);
}
