// Management review (9.3): an admin holds the planned review of the demo organisation, reads
// its inputs assembled from the record (the open nonconformity with its overdue corrective
// action, the objectives' trend charts), records a decision that raises an action in the
// tracker, closes the review and reads the frozen pack. Lists show states and overdue actions.

import assert from 'node:assert/strict';
import { login, shot } from '../lib/browser.mjs';
import { checkPage } from '../lib/axe.mjs';
import { journey, useAims } from '../lib/harness.mjs';

const aims = useAims();

const REVIEW = 'Management review, this quarter';
const NC = 'Support assistant quoted an outdated early-repayment fee';
const DECISION = 'Check every retrieval source of the support assistant for currency before the next release.';
const ACTION = 'Audit the support assistant content sources';

journey(aims, 'an admin holds a management review, records a decision with its action, closes it and reads the frozen pack', async ({ page, url, users }) => {
  await login(page, url, users.admin.email, users.admin.password);

  // The nonconformity list shows each record's state and its overdue corrective actions.
  await page.goto(`${url}/orgs/demo/nonconformities`);
  const ncRow = page.getByRole('row').filter({ hasText: NC });
  await ncRow.waitFor();
  assert.match(await ncRow.innerText(), /Action planned[\s\S]*1 overdue/);
  await checkPage(page, 'nonconformities-list');

  await page.getByRole('link', { name: 'Management reviews' }).click();
  await page.getByRole('heading', { level: 1, name: 'Management reviews' }).waitFor();
  const last = page.getByRole('row').filter({ hasText: 'Management review, last quarter' });
  assert.match(await last.innerText(), /Closed[\s\S]*1 overdue/, 'last quarter’s review: closed, one of its actions overdue');
  await checkPage(page, 'management-reviews-list');

  await page.getByRole('link', { name: REVIEW }).click();
  await page.getByRole('heading', { level: 1, name: REVIEW }).waitFor();
  await page.getByRole('button', { name: 'Hold the review' }).click();
  await page.getByRole('status').filter({ hasText: /held|Held|done|Done/ }).first().waitFor();

  const inputs = page.getByRole('region', { name: 'Inputs to the review' });
  await inputs.waitFor();
  assert.match(await inputs.innerText(), /Live/);
  // Nonconformities and corrective actions: the open one, with its overdue action.
  const ncItem = inputs.getByRole('listitem').filter({ hasText: NC });
  await ncItem.waitFor();
  assert.match(await ncItem.innerText(), /Overdue/);
  // Actions from the previous review: the one past its date is flagged.
  assert.match(await inputs.innerText(), /Name deputies for recurring AI reviews/);
  // Monitoring and measurement: a trend chart per objective.
  const charts = inputs.getByRole('img', { name: /measurements/ });
  assert.ok((await charts.count()) >= 1, 'the objectives’ trend charts');
  await charts.first().scrollIntoViewIfNeeded();
  assert.ok(await charts.first().isVisible());
  // Audit results: the demo internal audit and its findings.
  assert.match(await inputs.innerText(), /Audit results[\s\S]*Audits[\s\S]*Findings/);
  await page.evaluate(() => window.scrollTo(0, 0));
  await checkPage(page, 'management-review-held');

  // A decision that raises an action in the tracker.
  const decisions = page.getByRole('region', { name: 'Decisions and actions' });
  await decisions.getByLabel('Decision', { exact: true }).fill(DECISION);
  await decisions.getByLabel('Action to raise', { exact: true }).fill(ACTION);
  await decisions.getByLabel('Action owner', { exact: true }).selectOption({ index: 1 });
  await decisions.getByLabel('Action due', { exact: true }).fill(new Date(Date.now() + 30 * 864e5).toISOString().slice(0, 10));
  await decisions.getByRole('button', { name: 'Record decision' }).click();
  await page.getByRole('status').filter({ hasText: 'Decision recorded' }).waitFor();
  await decisions.getByText(DECISION).waitFor();
  await decisions.getByRole('link', { name: ACTION }).waitFor();
  await shot(page, 'management-review-decision');

  await page.getByRole('button', { name: 'Close the review' }).click();
  await page.getByRole('region', { name: 'Inputs to the review' }).getByText('Frozen', { exact: true }).waitFor();
  const frozen = page.getByRole('region', { name: 'Inputs to the review' });
  assert.match(await frozen.innerText(), /As reviewed/);
  await frozen.getByRole('listitem').filter({ hasText: NC }).waitFor();
  assert.ok((await frozen.getByRole('img', { name: /measurements/ }).count()) >= 1);
  await page.getByRole('button', { name: 'Record decision' }).waitFor({ state: 'detached' });
  await page.evaluate(() => window.scrollTo(0, 0));
  await checkPage(page, 'management-review-closed');

  // The action is in the one tracker, raised by the management review.
  await decisions.getByRole('link', { name: ACTION }).click();
  await page.getByRole('heading', { level: 1, name: ACTION }).waitFor();
  assert.match(await page.getByRole('main').innerText(), /Management review/);
});
