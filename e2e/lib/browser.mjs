// Headless Chromium through playwright-core, using the system browser (Debian's `chromium`):
// Playwright's own browser download is not used.
//
//   const browser = await launchBrowser();
//   const { context, page } = await newPage(browser);
//   await login(page, server.url, email, password);
//   await shot(page, 'dashboard');   // e2e/screenshots/dashboard.png

import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const E2E_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SCREENSHOT_DIR = path.join(E2E_DIR, 'screenshots');

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The Chromium executable: CHROMIUM_PATH, else /usr/bin/chromium. */
export function chromiumPath() {
  return process.env.CHROMIUM_PATH || '/usr/bin/chromium';
}

export async function launchBrowser() {
  const executablePath = chromiumPath();
  if (!existsSync(executablePath)) {
    throw new Error(`Chromium not found at ${executablePath}: apt-get install chromium, or set CHROMIUM_PATH`);
  }
  return chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
}

/**
 * A fresh context (own cookies, so own session) and page. Timeouts are short so a missing
 * element fails the test in seconds rather than hanging the suite.
 */
export async function newPage(browser, { viewport = { width: 1280, height: 800 } } = {}) {
  const context = await browser.newContext({ viewport, locale: 'en-GB', timezoneId: 'UTC' });
  context.setDefaultTimeout(10_000);
  context.setDefaultNavigationTimeout(15_000);
  const page = await context.newPage();
  // Surface browser-side problems in the test output (a broken script, a failed asset).
  page.on('pageerror', (error) => console.error(`[page error] ${error.message}`));
  page.on('console', (message) => {
    // A page answered with 401/422 (a refused form) is logged by Chromium as a failed load;
    // failed sub-resources are reported below instead.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
      console.error(`[console error] ${message.text()}`);
    }
  });
  page.on('response', (response) => {
    const request = response.request();
    if (response.status() >= 400 && request.resourceType() !== 'document' && request.resourceType() !== 'fetch') {
      console.error(`[failed ${request.resourceType()}] ${response.status()} ${request.url()}`);
    }
  });
  return { context, page };
}

/**
 * Signs in through the login form and waits until the browser has left /login.
 * Throws (with the page's error text) if the sign-in was refused.
 */
export async function login(page, url, email, password) {
  await page.goto(`${url}/login`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  // Either the browser leaves /login (signed in) or the login page comes back with an alert.
  const refused = page.getByRole('alert');
  await Promise.race([
    page.waitForURL((u) => u.pathname !== '/login', { waitUntil: 'load' }),
    refused.first().waitFor(),
  ]);
  if (new URL(page.url()).pathname === '/login') {
    const text = (await refused.allInnerTexts()).join(' ').trim();
    throw new Error(`sign-in as ${email} was refused: ${text || '(no message shown)'}`);
  }
}

/** Saves a full-page PNG as e2e/screenshots/NAME.png and returns its path. */
export async function shot(page, name) {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name.replace(/[^\w.-]+/g, '-')}.png`);
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled' });
  return file;
}
