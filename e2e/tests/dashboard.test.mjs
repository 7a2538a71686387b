// The dashboard (organisation, catalogue, charts) and the main navigation to the gap
// assessment and the Statement of Applicability.

import assert from 'node:assert/strict';
import { login, shot } from '../lib/browser.mjs';
import { journey, useAims } from '../lib/harness.mjs';

/** The link to a catalogue row: named by its reference, or the link in the table row of it. */
function linkTo(container, reference) {
  const escaped = reference.replace(/\./g, '\\.');
  const row = container.getByRole('row').filter({ has: container.page().getByRole('cell', { name: reference, exact: true }) });
  return container
    .getByRole('link', { name: new RegExp(`(^|\\s)${escaped}(\\s|$)`) })
    .or(row.getByRole('link'))
    .first();
}

const aims = useAims();

journey(aims, 'the dashboard shows the organisation, the catalogue and charts', async ({ page, url, users }) => {
  await login(page, url, users.owner.email, users.owner.password);
  await page.waitForURL(`${url}/orgs/demo/`);
  await page.getByRole('heading', { level: 1 }).filter({ hasText: 'Northwind Lending' }).waitFor();

  const main = page.getByRole('main');
  // Clause 4–10 requirements and Annex A controls, by reference and short title.
  await main.getByText('6.1.2', { exact: true }).first().waitFor();
  await main.getByText('A.6.2.4', { exact: true }).first().waitFor();
  await main.getByText('AI system verification and validation').first().waitFor();
  await main.getByText('A.10.4', { exact: true }).first().waitFor();

  // Charts are inline SVG, with something drawn in them.
  const charts = main.locator('svg').filter({ has: page.locator('rect, path, circle') });
  await charts.first().waitFor();
  assert.ok((await charts.count()) >= 2, `expected at least two charts, found ${await charts.count()}`);
  await shot(page, 'dashboard');
});

journey(aims, 'navigation leads to the gap assessment, the SoA and the activity log', async ({ page, url, users }) => {
  await login(page, url, users.owner.email, users.owner.password);
  const nav = page.getByRole('navigation').filter({ has: page.getByRole('link', { name: 'Gap assessment' }) });
  for (const name of ['Gap assessment', 'Statement of Applicability', 'Activity log']) {
    await nav.getByRole('link', { name }).first().waitFor();
  }

  await nav.getByRole('link', { name: 'Gap assessment' }).first().click();
  await page.waitForURL(`${url}/orgs/demo/requirements`);
  await page.getByRole('heading', { level: 1 }).waitFor();
  const main = page.getByRole('main');
  await main.getByText('4.1', { exact: true }).first().waitFor();
  await main.getByText('10.2', { exact: true }).first().waitFor();
  await shot(page, 'gap-assessment');

  await nav.getByRole('link', { name: 'Statement of Applicability' }).first().click();
  await page.waitForURL(`${url}/orgs/demo/controls`);
  await page.getByRole('heading', { level: 1 }).waitFor();
  await main.getByText('A.2.2', { exact: true }).first().waitFor();
  await main.getByText('A.10.4', { exact: true }).first().waitFor();
  await shot(page, 'soa');

  // A control row leads to its page.
  await linkTo(main, 'A.6.2.4').click();
  await page.waitForURL(`${url}/orgs/demo/controls/A.6.2.4`);
  await page.getByText('AI system verification and validation').first().waitFor();

  await nav.getByRole('link', { name: 'Activity log' }).first().click();
  await page.waitForURL(`${url}/orgs/demo/activity`);
  await page.getByRole('heading', { name: 'Activity log' }).waitFor();
});

journey(aims, 'a requirement of the gap assessment opens from its list', async ({ page, url, users }) => {
  await login(page, url, users.owner.email, users.owner.password);
  await page.goto(`${url}/orgs/demo/requirements`);
  await linkTo(page.getByRole('main'), '6.1.2').click();
  await page.waitForURL(`${url}/orgs/demo/requirements/6.1.2`);
  await page.getByRole('heading', { level: 1 }).waitFor();
  await shot(page, 'requirement-detail');
});
