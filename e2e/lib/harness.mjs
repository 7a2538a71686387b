// Wires a test file to one fresh aims server and one browser, and runs each journey in its
// own browser context (own cookies), screenshotting the page if the journey fails.
//
//   const aims = useAims();
//   journey('signs in', async ({ page, server }) => { … });

import { after, before, test } from 'node:test';
import { launchBrowser, newPage, shot } from './browser.mjs';
import { startServer } from './server.mjs';

/** Starts the server and browser before the file's tests and stops them after. */
export function useAims(options = {}) {
  const aims = { server: null, browser: null };
  before(async () => {
    const [server, browser] = await Promise.allSettled([startServer(options), launchBrowser()]);
    aims.server = server.value ?? null;
    aims.browser = browser.value ?? null;
    if (server.status === 'rejected') throw server.reason;
    if (browser.status === 'rejected') throw browser.reason;
  });
  after(async () => {
    await aims.browser?.close();
    await aims.server?.stop();
  });
  return aims;
}

/**
 * One user journey as a test. `fn` gets { page, context, server, url, users }.
 * On failure the page is saved as screenshots/FAILED-<name>.png before the error is reported.
 */
export function journey(aims, name, fn, { timeout = 45_000 } = {}) {
  test(name, { timeout }, async () => {
    if (!aims.server || !aims.browser) throw new Error('the aims server or the browser did not start');
    const { context, page } = await newPage(aims.browser);
    try {
      await fn({ page, context, server: aims.server, url: aims.server.url, users: aims.server.users });
    } catch (error) {
      await shot(page, `FAILED-${name}`).catch(() => {});
      error.message += `\n    at page ${page.url()}`;
      throw error;
    } finally {
      await context.close();
    }
  });
}
