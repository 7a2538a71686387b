// AI objectives with their measurements and trend chart (6.2, 9.1); competence gaps that close
// when a valid training record is added (7.2); the communication plan and the record of what
// was communicated (7.4). Each journey creates what it needs through the UI.

import assert from 'node:assert/strict';
import { login, shot } from '../lib/browser.mjs';
import { journey, useAims } from '../lib/harness.mjs';

const aims = useAims();

/** A date `days` from today (negative: in the past) as YYYY-MM-DD. */
function day(days) {
  const d = new Date();
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

const OBJECTIVE = 'Validate every model change before release';
const PERSON = 'Priya Raman';
const ROLE = 'Fair lending model reviewer';
const COMPETENCE = 'Bias testing of credit models';
const COMMUNICATION = 'Changes to the AI policy';

journey(aims, 'an editor records a measurement and sees it in the trend chart and the latest value', async ({ page, url, users }) => {
  await login(page, url, users.editor.email, users.editor.password);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Objectives' }).click();
  await page.getByRole('heading', { level: 1, name: 'Objectives' }).waitFor();
  await page.getByRole('link', { name: 'New objective' }).click();

  await page.getByLabel('Title', { exact: true }).fill(OBJECTIVE);
  await page.getByLabel('Metric', { exact: true }).fill('Share of model changes validated before release');
  await page.getByLabel('Unit', { exact: true }).fill('%');
  await page.getByLabel('Target is', { exact: true }).selectOption({ label: 'At least' });
  await page.getByLabel('Target', { exact: true }).fill('95');
  await page.getByLabel('Baseline', { exact: true }).fill('70');
  await shot(page, 'objective-new');
  await page.getByRole('button', { name: 'Create objective' }).click();
  await page.getByRole('heading', { level: 1, name: OBJECTIVE }).waitFor();
  await page.getByRole('status').filter({ hasText: 'Objective created' }).waitFor();

  // Two measurements: an older one below the target, today's above it.
  const form = page.getByRole('region', { name: 'Record a measurement' });
  for (const [value, on, notes] of [['82', day(-60), 'First quarter after the checklist'], ['96.5', day(0), '']]) {
    await form.getByLabel('Value', { exact: true }).fill(value);
    await form.getByLabel('Measured on', { exact: true }).fill(on);
    await form.getByLabel('Notes', { exact: true }).fill(notes);
    await form.getByRole('button', { name: 'Record measurement' }).click();
    await page.getByRole('status').filter({ hasText: 'Measurement recorded' }).waitFor();
  }

  const chart = page.getByRole('img', { name: /over time/ });
  await chart.waitFor();
  assert.equal(await chart.locator('title', { hasText: `${day(0)}: 96.5% — meets the target` }).count(), 1);
  assert.equal(await chart.locator('title', { hasText: `${day(-60)}: 82% — misses the target` }).count(), 1);
  assert.equal(await page.locator('#latest-value').innerText(), '96.5%');
  await page.getByRole('main').getByText('On track', { exact: true }).first().waitFor();
  const newest = page.getByRole('region', { name: 'Measurements' }).getByRole('row').nth(1);
  assert.match(await newest.innerText(), new RegExp(`${day(0)}[\\s\\S]*96\\.5%[\\s\\S]*Meets`));
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, 'objective-trend');

  await page.getByRole('link', { name: 'Objectives' }).first().click();
  const row = page.getByRole('row').filter({ hasText: OBJECTIVE });
  await row.waitFor();
  assert.match(await row.innerText(), /≥ 95%[\s\S]*96\.5%[\s\S]*On track/);
  assert.equal(await row.getByRole('img').count(), 1, 'a sparkline of the figures');
  await shot(page, 'objectives');
});

journey(aims, 'a role needs a competence: the gap shows until a valid training is recorded', async ({ page, url, users }) => {
  await login(page, url, users.editor.email, users.editor.password);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'People & competence' }).click();
  await page.getByRole('heading', { level: 1, name: 'People & competence' }).waitFor();

  const people = page.getByRole('region', { name: 'People', exact: true });
  await people.getByText('Add person').first().click();
  await people.getByLabel('Name', { exact: true }).fill(PERSON);
  await people.getByLabel('Job title', { exact: true }).fill('Credit risk analyst');
  await people.getByLabel('AI-related roles', { exact: true }).fill(ROLE);
  await people.getByRole('button', { name: 'Add person' }).click();
  await page.getByRole('status').filter({ hasText: 'Person added' }).waitFor();

  const competences = page.getByRole('region', { name: 'Competences' });
  await competences.getByText('Add competence').first().click();
  await competences.getByLabel('Name', { exact: true }).fill(COMPETENCE);
  await competences.getByLabel('Required for roles', { exact: true }).fill(ROLE);
  await competences.getByLabel('Renew every (months)', { exact: true }).fill('24');
  await competences.getByRole('button', { name: 'Add competence' }).click();
  await page.getByRole('status').filter({ hasText: 'Competence added' }).waitFor();

  // The new person lacks the new competence.
  const gaps = page.getByRole('region', { name: 'Who lacks what' });
  const gap = gaps.getByRole('listitem').filter({ has: page.getByRole('link', { name: PERSON }) });
  await gap.waitFor();
  assert.match(await gap.innerText(), new RegExp(`${COMPETENCE}[\\s\\S]*Missing[\\s\\S]*${ROLE}`));
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, 'people-gap');

  await gap.getByRole('link', { name: 'Record training' }).click();
  await page.getByRole('heading', { level: 1, name: PERSON }).waitFor();
  const lacks = page.getByRole('region', { name: `What ${PERSON} lacks` });
  await lacks.getByText(COMPETENCE).waitFor();
  const trainings = page.getByRole('region', { name: 'Training records' });
  await trainings.getByLabel('Title', { exact: true }).fill('Fair lending model testing');
  await trainings.getByLabel('Type', { exact: true }).selectOption({ label: 'Certification' });
  await trainings.getByLabel(COMPETENCE).check();
  await trainings.getByLabel('Provider', { exact: true }).fill('Credit Risk Institute');
  await trainings.getByLabel('Completed on', { exact: true }).fill(day(-30));
  await trainings.getByLabel('Expires on', { exact: true }).fill(day(700));
  await shot(page, 'person-training-form');
  await trainings.getByRole('button', { name: 'Add training record' }).click();
  await page.getByRole('status').filter({ hasText: 'Training record added' }).waitFor();
  await lacks.getByText('Holds every competence their roles require.').waitFor();
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, 'person-detail');

  await page.getByRole('link', { name: 'People & competence' }).first().click();
  await page.getByRole('heading', { level: 1, name: 'People & competence' }).waitFor();
  assert.equal(await page.getByRole('region', { name: 'Who lacks what' }).getByRole('link', { name: PERSON }).count(), 0, 'the gap is gone');
  const record = page.getByRole('region', { name: 'Training records' }).getByRole('row').filter({ hasText: 'Fair lending model testing' });
  assert.match(await record.innerText(), new RegExp(`${PERSON}[\\s\\S]*${COMPETENCE}`));
  await shot(page, 'people');
});

journey(aims, 'a communication is planned, shows overdue, and is recorded as done', async ({ page, url, users }) => {
  await login(page, url, users.editor.email, users.editor.password);
  await page.goto(`${url}/orgs/demo/people`);
  await page.getByRole('link', { name: 'Communication plan' }).first().click();
  await page.getByRole('heading', { level: 1, name: 'Communication plan' }).waitFor();
  await page.getByRole('link', { name: 'Plan a communication' }).click();

  await page.getByLabel('What', { exact: true }).fill(COMMUNICATION);
  await page.getByLabel('With whom', { exact: true }).fill('All credit officers and model owners');
  await page.getByLabel('How', { exact: true }).selectOption({ label: 'Email' });
  await page.getByLabel('How often', { exact: true }).selectOption({ label: 'Quarterly' });
  await page.getByLabel('Next due', { exact: true }).fill(day(-3));
  await shot(page, 'communication-new');
  await page.getByRole('button', { name: 'Add to the plan' }).click();
  await page.getByRole('heading', { level: 1, name: COMMUNICATION }).waitFor();
  await page.getByRole('main').getByText('Overdue', { exact: true }).first().waitFor();

  const form = page.getByRole('region', { name: 'Record that it was communicated' });
  assert.equal(await form.getByLabel('Communicated on', { exact: true }).inputValue(), day(0));
  await form.getByLabel('What was communicated', { exact: true }).fill('E-mailed the summary of the policy changes approved this month.');
  await shot(page, 'communication-detail');
  await form.getByRole('button', { name: 'Record it' }).click();
  await page.getByRole('status').filter({ hasText: 'Recorded' }).waitFor();
  await page.getByRole('region', { name: 'What was communicated' }).getByText('E-mailed the summary').waitFor();

  await page.getByRole('link', { name: 'Communication plan' }).first().click();
  const row = page.getByRole('row').filter({ hasText: COMMUNICATION });
  await row.waitFor();
  const text = await row.innerText();
  assert.doesNotMatch(text, /Overdue/);
  assert.match(text, new RegExp(`Quarterly[\\s\\S]*${day(0)}`));
  await shot(page, 'communications');
});
