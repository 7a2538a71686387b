// The pages generated from the kind declarations: a context issue created, edited, compared
// revision by revision and archived (with its confirmation); a lifecycle gate's transitions
// panel, which tells the requester why approving is not offered and lets the owner reject it.
// Each page is checked with axe at 1366 and 390 px.

import assert from 'node:assert/strict';
import { login } from '../lib/browser.mjs';
import { checkPage } from '../lib/axe.mjs';
import { journey, useAims } from '../lib/harness.mjs';

const aims = useAims();

const ISSUE = 'New AI regulation in the EU';
const RENAMED = 'EU AI Act obligations for lenders';

journey(aims, 'an editor edits a context issue, compares its revisions and archives it', async ({ page, url, users }) => {
  await login(page, url, users.editor.email, users.editor.password);
  await page.goto(`${url}/orgs/demo/requirements`);
  await page.getByRole('link', { name: 'Context issues (4.1)' }).click();
  await page.getByRole('heading', { level: 1, name: 'Context issues' }).waitFor();
  await checkPage(page, 'record-list-context-issues');
  await page.goto(`${url}/orgs/demo/context-issues/new`);
  await page.getByLabel('Title', { exact: true }).fill(ISSUE);
  await page.getByLabel('Internal or external', { exact: true }).selectOption({ label: 'External' });
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('heading', { level: 1, name: ISSUE }).waitFor();

  await page.getByLabel('Title', { exact: true }).fill(RENAMED);
  await page.getByLabel('Internal or external', { exact: true }).selectOption({ label: 'Internal' });
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
  await page.getByRole('heading', { level: 1, name: RENAMED }).waitFor();
  await checkPage(page, 'record-detail-context-issue');

  await page.getByRole('link', { name: 'Compare revisions' }).click();
  await page.getByRole('heading', { level: 2, name: 'Revision 1 compared with revision 2' }).waitFor();
  const title = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'Title' }) });
  assert.match(await title.innerText(), new RegExp(`${ISSUE}[\\s\\S]*${RENAMED}`));
  // Any two, picked by their radio buttons: the same revision twice differs in nothing.
  await page.getByLabel('Compare from revision 2').check();
  await page.getByRole('button', { name: 'Compare' }).click();
  await page.getByText('No field differs.').waitFor();
  await page.getByLabel('Compare from revision 1').check();
  await page.getByRole('button', { name: 'Compare' }).click();
  await page.getByRole('rowheader', { name: 'Internal or external' }).waitFor();
  await checkPage(page, 'record-revisions-diff');

  await page.getByRole('link', { name: RENAMED }).click();
  const archive = page.locator('#archive');
  await archive.getByRole('button', { name: 'Archive' }).click();
  await page.getByText('to confirm').first().waitFor();
  await page.getByLabel('Archive this context issue').check();
  await page.locator('#archive').getByRole('button', { name: 'Archive' }).click();
  await page.getByRole('status').filter({ hasText: 'archived' }).waitFor();
  await checkPage(page, 'record-archived');
  await page.goto(`${url}/orgs/demo/context-issues`);
  await page.getByRole('heading', { level: 1, name: 'Context issues' }).waitFor();
  assert.equal(await page.getByRole('link', { name: RENAMED }).count(), 0, 'an archived issue leaves the list');
});

journey(aims, 'a gate offers its decision only to someone independent of it', async ({ page, url, users }) => {
  await login(page, url, users.admin.email, users.admin.password);
  await page.goto(`${url}/orgs/demo/gates`);
  await page.getByRole('heading', { level: 1, name: 'Lifecycle gates' }).waitFor();
  await page.getByRole('link', { name: 'Deployment' }).first().click();
  await page.getByRole('heading', { level: 2, name: 'Prerequisites' }).waitFor();
  // The admin requested it: approving is not offered, and the page says which rule.
  const decisions = page.locator('#transitions');
  assert.match(await decisions.innerText(), /Approve is not offered to you: rule separation-of-duties/);
  assert.equal(await decisions.getByRole('button', { name: 'Approve' }).count(), 0);
  await checkPage(page, 'gate-requester');

  await page.getByRole('button', { name: 'Sign out' }).click();
  await login(page, url, users.owner.email, users.owner.password);
  await page.goto(`${url}/orgs/demo/gates`);
  await page.getByRole('link', { name: 'Deployment' }).first().click();
  const panel = page.locator('#transitions');
  await panel.getByRole('button', { name: 'Reject' }).waitFor();
  await checkPage(page, 'gate-decider');
  await panel.locator('form', { has: page.getByRole('button', { name: 'Reject' }) }).getByLabel('Reason').fill('The pilot covered too few applications.');
  await panel.getByRole('button', { name: 'Reject' }).click();
  await page.getByRole('status').filter({ hasText: 'Now rejected' }).waitFor();
  assert.equal(await page.locator('#transitions').count(), 0, 'a decided gate offers nothing more');
  await checkPage(page, 'gate-rejected');
});

journey(aims, 'a list filters by its declared fields and sorts by its columns, on a phone too', async ({ page, url, users }) => {
  await login(page, url, users.editor.email, users.editor.password);
  for (const [title, type] of [['Zeta supplier concentration', 'External'], ['Alpha staff turnover', 'Internal'], ['Beta market shift', 'External']]) {
    await page.goto(`${url}/orgs/demo/context-issues/new`);
    await page.getByLabel('Title', { exact: true }).fill(title);
    await page.getByLabel('Internal or external', { exact: true }).selectOption({ label: type });
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { level: 1, name: title }).waitFor();
  }
  await page.goto(`${url}/orgs/demo/context-issues`);
  const filters = page.getByRole('form', { name: 'Filter context issues' });
  await filters.getByLabel('Internal or external').selectOption({ label: 'External' });
  await filters.getByRole('button', { name: 'Apply' }).click();
  await page.waitForURL(/issue_type=external/);
  assert.equal(await page.getByRole('link', { name: 'Alpha staff turnover' }).count(), 0, 'the internal issue is filtered out');
  await page.getByRole('link', { name: 'Beta market shift' }).waitFor();

  // The Name header sorts ascending, then descending, keeping the filter.
  const nameHeader = page.getByRole('columnheader', { name: /Name/ });
  await nameHeader.getByRole('link').click();
  await page.waitForURL(/sort=title/);
  assert.equal(await page.getByRole('columnheader', { name: /Name/ }).getAttribute('aria-sort'), 'ascending');
  assert.match(page.url(), /issue_type=external/);
  let titles = await page.locator('a.row-link').allInnerTexts();
  assert.ok(titles.indexOf('Beta market shift') < titles.indexOf('Zeta supplier concentration'), titles.join(' | '));
  await page.getByRole('columnheader', { name: /Name/ }).getByRole('link').click();
  await page.waitForURL(/sort=-title/);
  assert.equal(await page.getByRole('columnheader', { name: /Name/ }).getAttribute('aria-sort'), 'descending');
  titles = await page.locator('a.row-link').allInnerTexts();
  assert.ok(titles.indexOf('Zeta supplier concentration') < titles.indexOf('Beta market shift'), titles.join(' | '));
  await checkPage(page, 'record-list-filtered-sorted');
  // On a phone the rows are cards without headers: the Order select sorts the same way.
  await page.getByRole('form', { name: 'Filter context issues' }).getByLabel('Order').selectOption({ label: 'Name (ascending)' });
  await page.getByRole('form', { name: 'Filter context issues' }).getByRole('button', { name: 'Apply' }).click();
  await page.waitForURL(/sort=title(&|$)/);
  assert.match(page.url(), /issue_type=external/);

  // The AI systems register has the same bar and sortable headers.
  await page.goto(`${url}/orgs/demo/ai-systems?sort=-lifecycle_stage`);
  await page.getByRole('form', { name: 'Filter AI systems' }).getByLabel('EU AI Act risk category').waitFor();
  assert.equal(await page.getByRole('columnheader', { name: /Lifecycle stage/ }).getAttribute('aria-sort'), 'descending');
  await checkPage(page, 'ai-systems-list-filters');
});
