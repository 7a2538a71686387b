// The readiness dashboard of the demo organisation: real gaps, each linking to the record that
// causes it; fixing that record in the UI removes its gap at once. Axe at desktop and phone
// widths, with screenshots of both.

import assert from 'node:assert/strict';
import { login, shot } from '../lib/browser.mjs';
import { checkPage } from '../lib/axe.mjs';
import { journey, useAims } from '../lib/harness.mjs';

const aims = useAims();

journey(
  aims,
  'the readiness dashboard shows real gaps; fixing a record clears its gap',
  async ({ page, url, users }) => {
    await login(page, url, users.owner.email, users.owner.password);
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Readiness' }).first().click();
    await page.waitForURL(`${url}/orgs/demo/readiness`);
    await page.getByRole('heading', { level: 1, name: 'Certification readiness' }).waitFor();
    const main = page.getByRole('main');

    // The Stage 1 list names what is missing, and the charts are drawn.
    await main.getByRole('heading', { name: 'What is missing for a Stage 1 audit' }).waitFor();
    assert.ok((await main.locator('.stage1-list li').count()) >= 1, 'the demo misses something for Stage 1');
    assert.ok((await main.locator('svg.chart-bars').count()) >= 2, 'bars per clause and per group');

    // Gaps of several severities, each a link to a record page.
    const gaps = main.locator('a[data-rule]');
    assert.ok((await gaps.count()) >= 5, `expected real gaps, found ${await gaps.count()}`);
    for (const severity of ['high', 'medium']) {
      assert.ok((await main.locator(`.gap-rule .badge-sev-${severity}`).count()) >= 1, `a ${severity} gap`);
    }
    await checkPage(page, 'readiness');

    // Follow the gap of a risk not reconciled with the enterprise register, fix it, come back.
    const gap = main.locator('a[data-rule="R-RISK-NOT-RECONCILED"]').first();
    const href = await gap.getAttribute('href');
    assert.match(href, /^\/orgs\/demo\/risks\/[0-9a-f-]+$/);
    await gap.click();
    await page.waitForURL(`${url}${href}`);
    await page.getByLabel('Enterprise risk register id').fill('ERM-2026-017');
    await page.getByRole('button', { name: 'Save' }).first().click();
    await page.waitForLoadState('load');
    await page.goto(`${url}/orgs/demo/readiness`);
    assert.equal(await main.locator(`a[data-rule="R-RISK-NOT-RECONCILED"][href="${href}"]`).count(), 0, 'the fixed gap is gone');
    assert.ok((await main.locator('a[data-rule]').count()) >= 4, 'the other gaps remain');

    // The dashboard's summary card leads here.
    await page.goto(`${url}/orgs/demo/`);
    await main.getByRole('heading', { name: 'Certification readiness' }).waitFor();
    await shot(page, 'readiness-dashboard-card');

    // Maturity assessments: the chart of levels over time on their list.
    await page.goto(`${url}/orgs/demo/maturity-assessments`);
    await main.getByRole('heading', { name: 'Levels over time' }).waitFor();
    assert.equal(await main.locator('svg.chart-maturity').count(), 1);
    await checkPage(page, 'maturity-assessments');
  },
  { timeout: 180_000 },
);
