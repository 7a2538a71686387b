// Operation: a member of the public raises a concern through the organisation's form without
// an account and follows it through its private status link; an editor triages it into an
// incident and raises a nonconformity from that incident; a supplier review is recorded and
// submitted for an independent decision.

import assert from 'node:assert/strict';
import { checkPage } from '../lib/axe.mjs';
import { login, newPage, shot } from '../lib/browser.mjs';
import { journey, useAims } from '../lib/harness.mjs';

const aims = useAims();

const SUBJECT = 'Loan chatbot refused to explain its decision';

journey(aims, 'the public raises a concern, follows it, and an editor triages it into an incident that raises a nonconformity', async ({ page, url, users }) => {
  // The public: no account, a form of the organisation's own.
  const { context: publicContext, page: visitor } = await newPage(aims.browser);
  await visitor.goto(`${url}/trust/demo/concerns/new`);
  await visitor.getByRole('heading', { level: 1, name: 'Raise a concern about an AI system' }).waitFor();
  await visitor.getByLabel('Subject').fill(SUBJECT);
  await visitor.getByLabel('Which AI system or service?').fill('Loan assistant on the website');
  // The concern left empty is refused next to its field, with what was typed kept.
  await visitor.getByLabel('Your concern').fill(' ');
  await visitor.getByRole('button', { name: 'Send the concern' }).click();
  await visitor.locator('#description-error').waitFor();
  assert.equal(await visitor.getByLabel('Subject').inputValue(), SUBJECT);
  await visitor.getByLabel('Your concern').fill('I was refused a loan and the chatbot could not tell me why, or whether a person looked at it.');
  await checkPage(visitor, 'concern-form');
  await visitor.getByRole('button', { name: 'Send the concern' }).click();
  await visitor.getByRole('heading', { level: 1, name: /Your concern to/ }).waitFor();
  const statusUrl = visitor.url().replace('?sent=1', '');
  assert.match(statusUrl, /\/trust\/demo\/concerns\/aims_concern_/);
  assert.match(await visitor.locator('main').innerText(), /Received/);
  await checkPage(visitor, 'concern-status-received');

  // Inside: an editor triages it into an incident.
  await login(page, url, users.editor.email, users.editor.password);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Operation' }).click();
  await page.getByRole('heading', { level: 1, name: 'Incidents' }).waitFor();
  await page.goto(`${url}/orgs/demo/concerns`);
  await page.getByRole('link', { name: SUBJECT }).click();
  await page.getByRole('heading', { level: 1, name: SUBJECT }).waitFor();
  const decisions = page.locator('#transitions');
  const toIncident = decisions.locator('form', { has: page.getByRole('button', { name: 'Triage into an incident' }) });
  await toIncident.getByLabel('Note for the new record').fill('Explainability of credit decisions: check the assistant logs.');
  await toIncident.getByRole('button', { name: 'Triage into an incident' }).click();
  await page.getByRole('status').filter({ hasText: 'Now triaged' }).waitFor();
  await shot(page, 'concern-triaged');

  // The incident it became, and a nonconformity raised from it.
  await page.getByRole('link', { name: `Concern: ${SUBJECT}` }).first().click();
  await page.getByRole('heading', { level: 1, name: `Concern: ${SUBJECT}` }).waitFor();
  const raise = page.locator('#raise-nonconformity');
  await raise.getByLabel('Nonconformity').fill('Credit decisions reach customers without an explanation');
  await raise.getByRole('button', { name: 'Raise nonconformity' }).click();
  await page.getByRole('status').filter({ hasText: 'Nonconformity raised' }).waitFor();
  await page.locator('#raise-nonconformity').getByRole('link', { name: 'Credit decisions reach customers without an explanation' }).waitFor();
  await checkPage(page, 'incident-nonconformity-raised');
  await page.locator('#raise-nonconformity').getByRole('link', { name: 'Credit decisions reach customers without an explanation' }).click();
  await page.getByRole('heading', { level: 1, name: 'Credit decisions reach customers without an explanation' }).waitFor();
  assert.match(await page.locator('main').innerText(), /Incident/);

  // The reporter's link now says it is being handled, and shows nothing else.
  await visitor.goto(statusUrl);
  const status = await visitor.locator('main').innerText();
  assert.match(status, /Being handled/);
  assert.doesNotMatch(status, /chatbot could not tell me why/);
  await shot(visitor, 'concern-status-triaged');
  await publicContext.close();
});

journey(aims, 'an editor records a supplier review with its AI due diligence and submits it for decision', async ({ page, url, users }) => {
  await login(page, url, users.editor.email, users.editor.password);
  await page.goto(`${url}/orgs/demo/supplier-reviews/new`);
  await page.getByLabel('Title', { exact: true }).fill('TalentSift ad-hoc review after model update');
  await page.getByLabel('Supplier', { exact: true }).selectOption({ label: 'TalentSift' });
  await page.getByLabel('Review date', { exact: true }).fill('2026-12-01');
  await page.getByLabel('Model lineage', { exact: true }).fill('March model retrained on 2026 applications; lineage document v4 received.');
  await page.getByLabel('Training-data provenance', { exact: true }).fill('Customers’ historical hiring outcomes, pseudonymised.');
  await page.getByLabel('Contract: audit rights', { exact: true }).selectOption({ label: 'Missing' });
  await page.getByLabel('Risk rating', { exact: true }).selectOption({ label: 'High' });
  await page.getByLabel('Outcome', { exact: true }).selectOption({ label: 'Approved with conditions' });
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('heading', { level: 1, name: 'TalentSift ad-hoc review after model update' }).waitFor();
  await page.locator('#transitions').getByRole('button', { name: 'Submit for decision' }).click();
  await page.getByRole('status').filter({ hasText: 'Now submitted' }).waitFor();
  // The editor recorded it: completing it is someone else's decision.
  assert.equal(await page.locator('#transitions').getByRole('button', { name: 'Approve and complete' }).count(), 0);
  await checkPage(page, 'supplier-review-submitted');
  // The supplier's page lists its reviews.
  await page.getByRole('link', { name: 'TalentSift', exact: true }).first().click();
  await page.getByRole('heading', { level: 1, name: 'TalentSift' }).waitFor();
  assert.match(await page.locator('main').innerText(), /TalentSift ad-hoc review after model update/);
  await shot(page, 'supplier-with-reviews');
});
