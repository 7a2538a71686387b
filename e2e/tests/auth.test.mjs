// Signing in and out: the login form, a refused password, the landing page, the session
// ending on sign-out, and a keyboard-only sign-in.

import assert from 'node:assert/strict';
import { login, shot } from '../lib/browser.mjs';
import { journey, useAims } from '../lib/harness.mjs';

const aims = useAims();

const pathOf = (page) => new URL(page.url()).pathname;

journey(aims, 'login page has labelled Email and Password and a Sign in button', async ({ page, url }) => {
  await page.goto(`${url}/login`);
  await page.getByLabel('Email').waitFor();
  await page.getByLabel('Password').waitFor();
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  assert.equal(await page.getByLabel('Password').getAttribute('type'), 'password');
  await shot(page, 'login');
});

journey(aims, 'a wrong password shows an error and stays on /login', async ({ page, url, users }) => {
  await page.goto(`${url}/login`);
  await page.getByLabel('Email').fill(users.owner.email);
  await page.getByLabel('Password').fill(`${users.owner.password}-wrong`);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const error = page.getByRole('alert').filter({ hasText: /not correct|invalid|wrong|incorrect/i });
  await error.first().waitFor();
  assert.equal(pathOf(page), '/login');
  // The typed address is kept, the password is not.
  assert.equal(await page.getByLabel('Email').inputValue(), users.owner.email);
  assert.equal(await page.getByLabel('Password').inputValue(), '');
  await shot(page, 'login-error');
});

journey(aims, 'signing in lands on the dashboard of Northwind Lending', async ({ page, url, users }) => {
  await login(page, url, users.owner.email, users.owner.password);
  await page.waitForURL(`${url}/orgs/demo/`);
  await page.getByRole('heading', { level: 1 }).filter({ hasText: 'Northwind Lending' }).waitFor();
});

journey(aims, 'sign out returns to /login and the dashboard then asks to sign in', async ({ page, url, users }) => {
  await login(page, url, users.admin.email, users.admin.password);
  await page.waitForURL(`${url}/orgs/demo/`);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL((u) => u.pathname === '/login');
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  await shot(page, 'signed-out');

  await page.goto(`${url}/orgs/demo/`);
  await page.waitForURL((u) => u.pathname === '/login');
  await page.getByLabel('Email').waitFor();
  // …and signing in again goes back where the user was heading.
  await page.getByLabel('Email').fill(users.admin.email);
  await page.getByLabel('Password').fill(users.admin.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${url}/orgs/demo/`);
});

journey(aims, 'the login form can be completed with the keyboard only (Tab and Enter)', async ({ page, url, users }) => {
  await page.goto(`${url}/login`);
  const focusedId = () => page.evaluate(() => document.activeElement?.id ?? '');
  const focusedIs = (locator) => locator.evaluate((el) => el === document.activeElement);
  const email = page.getByLabel('Email');
  const password = page.getByLabel('Password');
  const button = page.getByRole('button', { name: 'Sign in' });

  // From wherever focus starts, Tab reaches the Email field within a few presses.
  for (let presses = 0; !(await focusedIs(email)); presses++) {
    assert.ok(presses < 8, `Tab did not reach the Email field (focus on #${await focusedId()})`);
    await page.keyboard.press('Tab');
  }
  await page.keyboard.type(users.editor.email);
  await page.keyboard.press('Tab');
  assert.ok(await focusedIs(password), `Tab from Email should reach Password (focus on #${await focusedId()})`);
  await page.keyboard.type(users.editor.password);
  await page.keyboard.press('Tab');
  assert.ok(await focusedIs(button), 'Tab from Password should reach the Sign in button');
  await shot(page, 'login-keyboard-focus');
  await page.keyboard.press('Enter');
  await page.waitForURL(`${url}/orgs/demo/`);
  await page.getByRole('heading', { level: 1 }).filter({ hasText: 'Northwind Lending' }).waitFor();
});
