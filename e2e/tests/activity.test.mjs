// The activity log: events in a table, the record-type filter, and the CSV export link.

import assert from 'node:assert/strict';
import { login, shot } from '../lib/browser.mjs';
import { journey, useAims } from '../lib/harness.mjs';

const aims = useAims();

/** Data rows of the events table (not the header, not a "no events" row). */
function eventRows(page) {
  return page
    .getByRole('main')
    .getByRole('table')
    .first()
    .locator('tbody tr')
    .filter({ hasNotText: /no events/i });
}

journey(aims, 'the activity log lists events and the record type filter narrows them', async ({ page, url, users }) => {
  await login(page, url, users.auditor.email, users.auditor.password);
  await page.goto(`${url}/orgs/demo/activity`);
  await page.getByRole('heading', { name: 'Activity log' }).waitFor();
  await eventRows(page).first().waitFor();
  const all = await eventRows(page).count();
  assert.ok(all > 1, `expected demo events, found ${all} rows`);
  await shot(page, 'activity-log');

  await page.getByLabel('Record type').selectOption({ label: 'Organisation' });
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL((u) => u.pathname === '/orgs/demo/activity' && u.searchParams.get('record_type') === 'organization');
  await eventRows(page).first().waitFor();
  const filtered = await eventRows(page).allInnerTexts();
  assert.ok(filtered.length < all, `filtering kept ${filtered.length} of ${all} rows`);
  for (const row of filtered) assert.match(row, /organi[sz]ation/i, `row does not belong to the filter: ${row}`);
  // The form shows the filter that is applied.
  assert.equal(await page.getByLabel('Record type').inputValue(), 'organization');
  await shot(page, 'activity-log-filtered');
});

journey(aims, 'the activity log offers the CSV export', async ({ page, url, users }) => {
  await login(page, url, users.viewer.email, users.viewer.password);
  await page.goto(`${url}/orgs/demo/activity`);
  const csv = page.locator('a[href="/api/v1/orgs/demo/activity?format=csv"]');
  await csv.waitFor();
  assert.match(await csv.innerText(), /csv/i);

  // The link works with the browser session: a CSV of every event, header first.
  const response = await page.request.get(`${url}/api/v1/orgs/demo/activity?format=csv`);
  assert.equal(response.status(), 200);
  assert.match(response.headers()['content-type'] ?? '', /text\/csv/);
  const [header, ...lines] = (await response.text()).trim().split(/\r?\n/);
  assert.match(header, /seq/);
  assert.match(header, /record_type/);
  assert.ok(lines.length > 1, 'the CSV has events');
});
