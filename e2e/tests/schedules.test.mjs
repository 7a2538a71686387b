// Recurring reviews: the "Reviews due" view shows the member's own and the organisation's
// reviews due soon or overdue; an overdue supplier review is marked done from its page and its
// next due date moves on by its frequency; a notification channel's page offers "Send test"
// and never shows a secret. Each page is checked with axe at 1366 and 390 px.

import assert from 'node:assert/strict';
import { login, shot } from '../lib/browser.mjs';
import { checkPage } from '../lib/axe.mjs';
import { journey, useAims } from '../lib/harness.mjs';

const aims = useAims();

const today = () => new Date().toISOString().slice(0, 10);

journey(aims, 'an admin sees the reviews due and marks an overdue supplier review done', async ({ page, url, users }) => {
  await login(page, url, users.admin.email, users.admin.password);
  await page.goto(`${url}/orgs/demo/`);
  const card = page.getByRole('link', { name: /My reviews/ });
  await card.waitFor();
  assert.match(await card.innerText(), /overdue/);
  await card.click();
  await page.getByRole('heading', { level: 1, name: 'Reviews due' }).waitFor();
  const mine = page.locator('#mine');
  assert.match(await mine.innerText(), /Supplier review: Lumen AI Ltd/);
  assert.match(await mine.innerText(), /Overdue/);
  await checkPage(page, 'reviews-due');

  await page.getByRole('link', { name: 'All recurring reviews' }).click();
  await page.getByRole('heading', { level: 1, name: 'Recurring reviews' }).waitFor();
  assert.match(await page.locator('main').innerText(), /Yearly review: AI policy/);
  await checkPage(page, 'schedules-list');
  await shot(page, 'schedules-list');

  await page.getByRole('link', { name: 'Supplier review: Lumen AI Ltd' }).click();
  await page.getByRole('heading', { level: 1, name: 'Supplier review: Lumen AI Ltd' }).waitFor();
  const before = await page.locator('main').innerText();
  assert.match(before, /Lumen AI Ltd/, 'the page names the supplier it concerns');
  const panel = page.locator('#transitions');
  const form = panel.locator('form', { has: page.getByRole('button', { name: 'Mark done' }) });
  await form.getByLabel('What was done').fill('Reviewed Lumen-3 model card and the incident notice clause.');
  await form.getByRole('button', { name: 'Mark done' }).click();
  await page.locator('#last-done').waitFor();
  const after = await page.locator('main').innerText();
  assert.match(after, new RegExp(`Done on\\s*${today()}`));
  assert.match(after, /Reviewed Lumen-3 model card/);
  const due = after.match(/Next due:?\s*(\d{4}-\d{2}-\d{2})/);
  assert.ok(due && due[1] > today(), `the next due date moved past today: ${due?.[1]}`);
  await checkPage(page, 'schedule-record');
  await shot(page, 'schedule-record');
});

journey(aims, 'a notification channel offers a test and keeps its secrets write-only', async ({ page, url, users }) => {
  await login(page, url, users.admin.email, users.admin.password);
  await page.goto(`${url}/orgs/demo/notification-channels`);
  await page.getByRole('heading', { level: 1, name: 'Notification channels' }).waitFor();
  await page.getByRole('link', { name: 'Governance team e-mail' }).click();
  await page.getByRole('heading', { level: 1, name: 'Governance team e-mail' }).waitFor();
  await page.locator('#send-test').getByRole('button', { name: 'Send test' }).waitFor();
  assert.match(await page.locator('#send-test').innerText(), /Not tested yet/);
  await checkPage(page, 'notification-channel');
  await shot(page, 'notification-channel');
});
