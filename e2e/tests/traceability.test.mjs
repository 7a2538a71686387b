// Traceability from an AI system: the panel on its page lists the controls (named on the
// control, or selected by one of its risks), evidence, actions and objectives linked to it, and
// each link leads to a page that links back.
//
// The first journey reads the demo's credit-scoring system, which has evidence, risks that
// select controls and an action; it asserts their presence, not particular records. The second
// creates what it needs through the UI.

import assert from 'node:assert/strict';
import { login, shot } from '../lib/browser.mjs';
import { journey, useAims } from '../lib/harness.mjs';

const aims = useAims();

const SCORECARD = 'Credit scoring model (ScoreCard v4)';
const SYSTEM = 'Complaint routing model';
const ACTION = 'Document the routing rules for complaints';
const CONTROL = 'A.6.1.2';

async function openSystem(page, url, name) {
  await page.goto(`${url}/orgs/demo/ai-systems`);
  await page.getByRole('link', { name, exact: true }).click();
  await page.getByRole('heading', { level: 1, name }).waitFor();
}

/** The traceability panel of an AI system page, and one of its groups. */
function panel(page) {
  return page.getByRole('region', { name: 'Traceability', exact: true });
}

function group(page, heading) {
  return panel(page).getByRole('region', { name: new RegExp(`^${heading}\\b`) });
}

journey(aims, 'an auditor follows an AI system to a control its risk selected, and back', async ({ page, url, users }) => {
  await login(page, url, users.auditor.email, users.auditor.password);
  await openSystem(page, url, SCORECARD);

  // Evidence with its file and review date; controls with their status and the risk behind them.
  const evidence = group(page, 'Evidence');
  assert.ok((await evidence.getByRole('link').count()) > 0, 'the demo links evidence to ScoreCard');
  assert.match(await evidence.innerText(), /review by \d{4}-\d{2}-\d{2}/);
  const controls = group(page, 'Controls');
  const selected = controls.getByRole('listitem').filter({ hasText: 'via risk:' });
  assert.ok((await selected.count()) > 0, 'its risks select controls');
  assert.match(await selected.first().innerText(), /Implemented|Partial|Planned|Not started|Excluded/);
  assert.ok((await group(page, 'Actions').getByRole('link').count()) > 0, 'the demo has an action for ScoreCard');
  assert.equal(await panel(page).getByRole('link', { name: 'upload evidence' }).count(), 0, 'no upload prompt for an auditor');
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, 'traceability-system');

  // Follow a control: its page lists ScoreCard among the AI systems covered, through the risk.
  const link = selected.first().getByRole('link');
  const reference = (await link.locator('.ref').innerText()).trim();
  await link.click();
  await page.waitForURL(`${url}/orgs/demo/controls/${reference}`);
  await page.getByRole('heading', { level: 1 }).waitFor();
  const covered = page.getByRole('region', { name: /^AI systems covered/ });
  const back = covered.getByRole('listitem').filter({ hasText: SCORECARD });
  await back.waitFor();
  assert.match(await back.innerText(), /via risk:/);
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, 'traceability-control');
  await back.getByRole('link', { name: SCORECARD }).click();
  await page.getByRole('heading', { level: 1, name: SCORECARD }).waitFor();
});

journey(aims, 'an editor links a new system to an action and a control and sees it both ways', async ({ page, url, users }) => {
  await login(page, url, users.editor.email, users.editor.password);
  await page.goto(`${url}/orgs/demo/ai-systems/new`);
  await page.getByLabel('Name', { exact: true }).fill(SYSTEM);
  await page.getByRole('button', { name: 'Register AI system' }).click();
  await page.getByRole('heading', { level: 1, name: SYSTEM }).waitFor();
  const systemUrl = page.url().split(/[?#]/)[0];

  // Nothing is linked yet: each group is one short line saying where to start.
  assert.match(await panel(page).innerText(), /Nothing linked yet/);
  assert.equal(await panel(page).getByRole('region').count(), 0, 'no empty headings');
  const empty = panel(page).getByRole('list', { name: 'Not linked yet' });
  assert.match(await empty.innerText(), /No evidence yet — upload evidence/);
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, 'traceability-empty');

  // "add an action" opens the form with the system already ticked.
  await empty.getByRole('link', { name: 'add an action' }).click();
  await page.getByLabel('Title', { exact: true }).fill(ACTION);
  const ticked = page.getByRole('group', { name: 'AI systems' }).getByRole('checkbox', { name: SYSTEM });
  assert.equal(await ticked.isChecked(), true);
  await page.getByRole('button', { name: 'Create action' }).click();
  await page.getByRole('heading', { level: 1, name: ACTION }).waitFor();

  // The control names the system directly.
  await page.goto(`${url}/orgs/demo/controls/${CONTROL}`);
  await page.getByRole('group', { name: 'AI systems covered' }).getByRole('checkbox', { name: SYSTEM }).check();
  await page.getByRole('main').getByRole('button', { name: /^save/i }).click();
  await page.getByRole('status').filter({ hasText: /saved/i }).first().waitFor();
  const covered = page.getByRole('region', { name: /^AI systems covered/ }).getByRole('listitem').filter({ hasText: SYSTEM });
  await covered.waitFor();
  assert.doesNotMatch(await covered.innerText(), /via risk/, 'named on the control itself');

  // Back on the system page: the action and the control, each a link to its page.
  await covered.getByRole('link', { name: SYSTEM }).click();
  await page.waitForURL(systemUrl);
  const action = group(page, 'Actions').getByRole('link', { name: ACTION });
  await action.waitFor();
  assert.match(await group(page, 'Actions').innerText(), /1 open/);
  const control = group(page, 'Controls').getByRole('listitem').filter({ hasText: CONTROL });
  await control.waitFor();
  assert.doesNotMatch(await control.innerText(), /via risk/);
  assert.match(await panel(page).innerText(), /No evidence yet/, 'the groups still empty stay one line each');
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, 'traceability-linked');
  await control.getByRole('link').click();
  await page.waitForURL(`${url}/orgs/demo/controls/${CONTROL}`);
});
