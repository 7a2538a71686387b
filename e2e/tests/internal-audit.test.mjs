// An internal audit from its programme to its closed report (9.2), and the nonconformity it
// raised taken through corrective action to closure (10.2). The demo auditor plans an audit
// from the programme with a scope (a clause, an Annex A control, an AI system), records the
// checklist's results, raises a finding and the nonconformity from it, and closes the audit
// with its report. Then the editor records the correction and the root cause and raises a
// corrective action, which its owner marks done, and the admin (who did none of the work)
// verifies its effectiveness, closing the nonconformity. Axe-checked at both widths.

import assert from 'node:assert/strict';
import { login, shot } from '../lib/browser.mjs';
import { checkPage } from '../lib/axe.mjs';
import { journey, useAims } from '../lib/harness.mjs';

const aims = useAims();

function day(days) {
  const d = new Date();
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

const AUDIT = 'Internal audit: ScoreCard model monitoring';
const FINDING = 'Drift alerts not reviewed';

/** Signs the current user out (by clearing the session) and signs `user` in. */
async function signInAs(page, url, user) {
  await page.context().clearCookies();
  await login(page, url, user.email, user.password);
}

/** Takes the transition labelled `label` from the record page, filling its fields. */
async function take(page, label, fields = {}) {
  const button = page.getByRole('main').getByRole('button', { name: label, exact: true });
  const form = page.getByRole('main').locator('form').filter({ has: page.getByRole('button', { name: label, exact: true }) });
  for (const [name, value] of Object.entries(fields)) await form.getByLabel(name).first().fill(value);
  await button.click();
  await page.waitForLoadState('load');
}

/** Saves the record page's edit form with `fields` (label → value; a select when `select:`). */
async function edit(page, fields) {
  for (const [name, value] of Object.entries(fields)) {
    const control = page.getByRole('main').getByLabel(name, { exact: true }).first();
    if ((await control.evaluate((e) => e.tagName)) === 'SELECT') await control.selectOption({ label: value });
    else await control.fill(value);
  }
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByRole('status').first().waitFor();
}

journey(
  aims,
  'an auditor runs an internal audit to its report; its nonconformity is corrected, verified and closed',
  async ({ page, url, users }) => {
    await login(page, url, users.auditor.email, users.auditor.password);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit' }).click();
    await page.getByRole('heading', { level: 1, name: 'Audits' }).waitFor();
    await checkPage(page, 'audit-list');

    // Plan the audit from the programme, with its scope and audited period.
    await page.getByRole('main').getByRole('link', { name: /New audit|Add/ }).first().click();
    await page.getByLabel('Title', { exact: true }).fill(AUDIT);
    await page.getByLabel('Type', { exact: true }).selectOption({ label: 'Internal' });
    const programme = page.getByLabel('Audit programme', { exact: true });
    await programme.selectOption({ index: 1 });
    await page.getByLabel('Clauses in scope', { exact: true }).fill('9.1');
    await page.getByLabel('Annex A controls in scope', { exact: true }).fill('A.6.2.6');
    await page.getByRole('group', { name: 'AI systems in scope' }).getByRole('checkbox', { name: 'Credit scoring model (ScoreCard v4)' }).check();
    await page.getByLabel('Audited period from', { exact: true }).fill(day(-180));
    await page.getByLabel('Audited period to', { exact: true }).fill(day(0));
    const lead = page.getByLabel('Lead auditor', { exact: true });
    await lead.selectOption(await lead.locator('option', { hasText: 'Aisha Karimi' }).getAttribute('value'));
    await page.getByLabel('Planned start', { exact: true }).fill(day(0));
    await shot(page, 'audit-new');
    await page.getByRole('button', { name: /Save|Create/ }).first().click();
    await page.getByRole('heading', { level: 1, name: AUDIT }).waitFor();
    const auditPath = new URL(page.url()).pathname;

    // The checklist has one item per clause, control and AI system in scope.
    const checklist = page.getByRole('region', { name: 'Checklist' });
    assert.equal(await checklist.getByRole('listitem').count(), 3, 'three checklist items');
    await take(page, 'Start the audit');
    const results = [
      ['9.1', 'Conforming', 'Monthly monitoring report reviewed by the model owner.'],
      ['A.6.2.6', 'Minor nonconformity', 'Drift alerts fired twice in October; neither was reviewed.'],
      ['Credit scoring model', 'Observation', 'Monitoring thresholds are not documented.'],
    ];
    for (const [item, result, notes] of results) {
      const row = page.getByRole('region', { name: 'Checklist' }).getByRole('listitem').filter({ hasText: item });
      await row.getByLabel(/^Result for/).selectOption({ label: result });
      await row.getByLabel('Notes', { exact: true }).fill(notes);
      await row.getByLabel('Evidence', { exact: true }).fill('Alert log, monitoring report');
      await row.getByRole('button', { name: 'Record result' }).click();
      await page.getByRole('status').filter({ hasText: 'Result recorded' }).waitFor();
    }
    assert.equal(await page.getByRole('region', { name: 'Checklist' }).getByText('No result yet').count(), 0, 'every item answered');
    await checkPage(page, 'audit-checklist');

    // A finding on the control, then the nonconformity it raises.
    await page.getByRole('link', { name: 'Record a finding' }).click();
    await page.getByLabel('Title', { exact: true }).fill(FINDING);
    const audit = page.getByLabel('Audit', { exact: true });
    await audit.selectOption({ label: AUDIT });
    await page.getByLabel('Classification', { exact: true }).selectOption({ label: 'Minor nonconformity' });
    await page.getByLabel('Description', { exact: true }).fill('Two drift alerts on ScoreCard in October were never reviewed or closed.');
    await page.getByLabel('Controls', { exact: true }).fill('A.6.2.6');
    await page.getByRole('button', { name: /Save|Create/ }).first().click();
    await page.getByRole('heading', { level: 1, name: FINDING }).waitFor();
    await take(page, 'Raise nonconformity');
    await page.getByRole('main').getByText('Nonconformity raised', { exact: true }).first().waitFor();
    await checkPage(page, 'finding-raised');
    const ncLink = page.getByRole('main').getByRole('link', { name: `Minor nonconformity: ${FINDING}` }).first();
    const ncPath = await ncLink.getAttribute('href');
    assert.ok(ncPath?.includes('/nonconformities/'), `the finding links its nonconformity: ${ncPath}`);

    // Report, then close with the report's summary.
    await page.goto(`${url}${auditPath}`);
    await take(page, 'Move to reporting');
    await take(page, 'Close with the report', { 'Report summary': 'Monitoring conforms; drift alerts are not reviewed (minor nonconformity raised).' });
    await page.getByRole('region', { name: 'Audit report' }).waitFor();
    await checkPage(page, 'audit-closed');

    // The editor works the nonconformity; the action's owner (the editor) marks it done.
    await signInAs(page, url, users.editor);
    await page.goto(`${url}${ncPath}`);
    await page.getByRole('main').getByText('Audit finding', { exact: false }).first().waitFor();
    await edit(page, { 'Correction taken': 'Both alerts reviewed; the October scores were within tolerance.' });
    await take(page, 'Record the correction');
    await edit(page, {
      'Root cause': 'Drift alerts go to a shared mailbox nobody is responsible for.',
      'Similar nonconformities elsewhere': 'No',
    });
    await take(page, 'Record the root cause');
    const raise = page.getByRole('region', { name: 'Corrective actions' });
    await raise.getByLabel('Action', { exact: true }).fill('Route drift alerts to the model owner with a two-day review target');
    const owner = raise.getByLabel('Owner', { exact: true });
    await owner.selectOption(await owner.locator('option', { hasText: 'Elena Rossi' }).getAttribute('value'));
    await raise.getByLabel('Due', { exact: true }).fill(day(14));
    await raise.getByRole('button', { name: 'Raise it' }).click();
    await page.getByRole('status').filter({ hasText: 'Corrective action raised' }).waitFor();
    await take(page, 'Plan corrective action');
    const actionHref = await page.getByRole('region', { name: 'Corrective actions' }).getByRole('link').first().getAttribute('href');
    assert.ok(actionHref);
    // Marked done by its owner, the editor.
    await page.goto(`${url}${actionHref}`);
    await page.getByLabel('Date completed', { exact: true }).fill(day(0));
    await page.getByRole('button', { name: 'Mark done' }).click();
    await page.waitForLoadState('load');
    await page.goto(`${url}${ncPath}`);
    await take(page, 'Ask for verification');

    // Verified by someone who did none of the work: the admin.
    await signInAs(page, url, users.admin);
    await page.goto(`${url}${ncPath}`);
    await take(page, 'Verify effectiveness', { 'What was checked': 'Two alerts since the change, both reviewed within a day.' });
    await page.getByRole('region', { name: 'Verification of effectiveness' }).waitFor();
    assert.match(await page.getByRole('main').innerText(), /Closed/);
    await checkPage(page, 'nonconformity-closed');
  },
  { timeout: 180_000 },
);
