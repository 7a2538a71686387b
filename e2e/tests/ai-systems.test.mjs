// The AI system area: registering a system, a lifecycle gate under separation of duties, a
// risk on the heat map and the acceptance of its residual risk, and an impact assessment that
// is signed off and flagged for re-assessment when the system changes.
//
// The journeys run in order against one server and build on each other's records.

import assert from 'node:assert/strict';
import { login, newPage, shot } from '../lib/browser.mjs';
import { journey, useAims } from '../lib/harness.mjs';

const aims = useAims();

const SYSTEM = 'Loan pre-screening assistant';
const RISK = 'Model drift erodes affordability checks';
const ASSESSMENT = 'Impact on loan applicants';

/** Signs in `user` in a second browser context; returns its page and a closer. */
async function asAnother(user, url) {
  const { context, page } = await newPage(aims.browser);
  await login(page, url, user.email, user.password);
  return { page, close: () => context.close() };
}

async function openSystem(page, url) {
  await page.goto(`${url}/orgs/demo/ai-systems`);
  await page.getByRole('link', { name: SYSTEM }).click();
  await page.getByRole('heading', { level: 1, name: SYSTEM }).waitFor();
}

journey(aims, 'an editor registers an AI system and sees it in the inventory', async ({ page, url, users }) => {
  await login(page, url, users.editor.email, users.editor.password);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'AI systems' }).click();
  await page.getByRole('heading', { level: 1, name: 'AI systems' }).waitFor();
  await page.getByRole('link', { name: 'Register AI system' }).click();

  await page.getByLabel('Name', { exact: true }).fill(SYSTEM);
  await page.getByLabel('Purpose', { exact: true }).fill('Ranks incoming loan applications for manual review.');
  await page.getByLabel('Intended use', { exact: true }).fill('Decision support for credit officers; never an automatic refusal.');
  await page.getByLabel('AI customer').check();
  await page.getByLabel('EU AI Act risk category', { exact: true }).selectOption({ label: 'High' });
  await page.getByLabel('Human oversight', { exact: true }).selectOption({ label: 'Human in the loop' });
  await page.getByLabel('Oversight rationale', { exact: true }).fill('A credit officer decides every application.');
  // The risk category needs a reason: the service says so next to the field.
  await page.getByRole('button', { name: 'Register AI system' }).click();
  const reason = page.getByLabel('Reason for the risk category', { exact: true });
  assert.equal(await reason.getAttribute('aria-invalid'), 'true');
  await shot(page, 'ai-system-register-error');
  await reason.fill('Creditworthiness assessment of natural persons (Annex III).');
  await page.getByRole('button', { name: 'Register AI system' }).click();

  await page.getByRole('heading', { level: 1, name: SYSTEM }).waitFor();
  await page.getByRole('status').filter({ hasText: 'AI system registered' }).waitFor();
  assert.match(await page.locator('[aria-current="step"]').innerText(), /Idea/);
  await shot(page, 'ai-system-detail');

  await page.goto(`${url}/orgs/demo/ai-systems`);
  const row = page.getByRole('row').filter({ hasText: SYSTEM });
  await row.waitFor();
  assert.match(await row.innerText(), /Idea[\s\S]*High[\s\S]*Elena Rossi|Idea[\s\S]*High/);
  await shot(page, 'ai-systems');
});

journey(aims, 'a gate requested by an admin is refused to that admin and approved by the owner', async ({ page, url, users }) => {
  await login(page, url, users.admin.email, users.admin.password);
  await openSystem(page, url);
  const gates = page.locator('#gates');
  await gates.getByText('New gate request').click();
  await gates.getByLabel('Move to stage', { exact: true }).selectOption({ label: 'Design' });
  await gates.getByLabel('Why now', { exact: true }).fill('The idea is agreed; design can start.');
  await gates.getByRole('button', { name: 'Request gate' }).click();
  await page.getByRole('status').filter({ hasText: 'Gate requested' }).waitFor();

  // The requester may not approve their own request.
  await page.locator('#gates').getByRole('button', { name: 'Approve' }).click();
  const refusal = page.getByRole('alert').filter({ hasText: /separation.of.duties/i });
  await refusal.waitFor();
  assert.match(await refusal.innerText(), /requester|requested/i);
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, 'gate-self-approval-refused');

  const owner = await asAnother(users.owner, url);
  try {
    await openSystem(owner.page, url);
    const ownerGates = owner.page.locator('#gates');
    await ownerGates.getByLabel('Reason for the decision').fill('Scope and intended use are clear.');
    await ownerGates.getByRole('button', { name: 'Approve' }).click();
    await owner.page.getByRole('status').filter({ hasText: 'Gate approved' }).waitFor();
    assert.match(await owner.page.locator('[aria-current="step"]').innerText(), /Design/);
    assert.match(await owner.page.locator('#gates').innerText(), /Decided by Olivia Okafor/);
    await owner.page.evaluate(() => window.scrollTo(0, 0));
    await shot(owner.page, 'gate-approved');
  } finally {
    await owner.close();
  }
});

journey(aims, 'an editor assesses a risk and sees its level on the heat map', async ({ page, url, users }) => {
  await login(page, url, users.editor.email, users.editor.password);
  await page.goto(`${url}/orgs/demo/risks`);
  await page.getByRole('link', { name: 'New risk' }).click();
  await page.getByLabel('Title', { exact: true }).fill(RISK);
  await page.getByLabel('Source', { exact: true }).selectOption({ label: 'Technical' });
  await page.getByLabel(SYSTEM).check();
  await page.getByLabel('Inherent likelihood', { exact: true }).selectOption({ label: '4 · Likely' });
  await page.getByLabel('Inherent consequence', { exact: true }).selectOption({ label: '5 · Severe' });
  await page.getByLabel('Treatment', { exact: true }).selectOption({ label: 'Mitigate' });
  await page.getByLabel('Controls selected', { exact: true }).fill('A.6.2.6');
  await page.getByLabel('Residual likelihood', { exact: true }).selectOption({ label: '3 · Possible' });
  await page.getByLabel('Residual consequence', { exact: true }).selectOption({ label: '4 · Major' });
  await page.getByLabel('Risk owner', { exact: true }).selectOption({ label: 'Elena Rossi (editor)' });
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('heading', { level: 1, name: RISK }).waitFor();
  const meta = await page.locator('.meta').innerText();
  assert.match(meta, /Critical · 20/);
  assert.match(meta, /High · 12/);

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Risks' }).click();
  const inherent = page.locator('svg[aria-label^="Risk heat map — inherent"]');
  await inherent.waitFor();
  // The demo may hold other risks: this one adds to the counts of its cells.
  assert.match(await inherent.getAttribute('aria-label'), /\d+ risks? rated/);
  assert.match(await inherent.locator('desc').textContent(), /\d+ at likelihood Likely and consequence Severe/);
  const residual = page.locator('svg[aria-label^="Risk heat map — residual"]');
  assert.match(await residual.locator('desc').textContent(), /\d+ at likelihood Possible and consequence Major/);
  const row = page.getByRole('row').filter({ hasText: RISK });
  assert.match(await row.innerText(), /Critical[\s\S]*High/);
  await shot(page, 'risk-register');
});

journey(aims, 'a residual risk above the threshold is accepted by the owner, not by an admin', async ({ page, url, users }) => {
  await login(page, url, users.admin.email, users.admin.password);
  await page.goto(`${url}/orgs/demo/risks`);
  await page.getByRole('link', { name: RISK }).click();
  await page.getByLabel('Rationale').fill('Monitoring catches drift within a week.');
  await page.getByRole('button', { name: 'Accept residual risk' }).click();
  await page.getByRole('alert').filter({ hasText: /role.permission/i }).waitFor();
  await shot(page, 'risk-accept-refused');

  const owner = await asAnother(users.owner, url);
  try {
    await owner.page.goto(`${url}/orgs/demo/risks`);
    await owner.page.getByRole('link', { name: RISK }).click();
    await owner.page.getByLabel('Rationale').fill('Monitoring catches drift within a week; reviewed quarterly.');
    await owner.page.getByRole('button', { name: 'Accept residual risk' }).click();
    await owner.page.getByRole('status').filter({ hasText: 'Residual risk accepted' }).waitFor();
    assert.match(await owner.page.locator('#accept').innerText(), /Accepted by Olivia Okafor/);
    await owner.page.evaluate(() => window.scrollTo(0, 0));
    await shot(owner.page, 'risk-accepted');
  } finally {
    await owner.close();
  }
});

journey(aims, 'an impact assessment is signed off and falls due when the intended use changes', async ({ page, url, users }) => {
  await login(page, url, users.editor.email, users.editor.password);
  await openSystem(page, url);
  await page.getByRole('link', { name: 'New impact assessment' }).click();
  await page.getByLabel('Title', { exact: true }).fill(ASSESSMENT);
  const party = page.getByRole('group', { name: 'Affected parties 1 (new)' });
  await party.getByLabel('Who', { exact: true }).selectOption({ label: 'Individuals' });
  await party.getByLabel('Description', { exact: true }).fill('Applicants for consumer loans.');
  const impact = page.getByRole('group', { name: 'Impacts 1 (new)' });
  await impact.getByLabel('Area', { exact: true }).selectOption({ label: 'Fairness' });
  await impact.getByLabel('Impact', { exact: true }).fill('Applicants from thin-file groups may be ranked lower.');
  await impact.getByLabel('Severity', { exact: true }).selectOption({ label: 'Major' });
  await impact.getByLabel('Likelihood', { exact: true }).selectOption({ label: 'Possible' });
  await page.getByLabel('Overall impact level', { exact: true }).selectOption({ label: 'Medium' });
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('heading', { level: 1, name: ASSESSMENT }).waitFor();
  const assessmentUrl = page.url().split('?')[0];
  // The saved rows come back, with one empty row to add another.
  assert.equal(await page.getByRole('group', { name: 'Impacts 1' }).getByLabel('Area', { exact: true }).inputValue(), 'fairness');
  await shot(page, 'impact-assessment');

  const admin = await asAnother(users.admin, url);
  try {
    await admin.page.goto(assessmentUrl);
    await admin.page.getByLabel('Comment').fill('Fairness testing before design sign-off.');
    await admin.page.getByRole('button', { name: 'Sign off' }).click();
    await admin.page.getByRole('status').filter({ hasText: 'signed off' }).waitFor();
    assert.match(await admin.page.locator('#sign').innerText(), /Revision 1 signed off by Arjun Mehta/);
    await admin.page.getByRole('link', { name: 'Revision 1' }).click();
    await admin.page.getByRole('heading', { level: 1 }).filter({ hasText: 'revision 1' }).waitFor();
    assert.equal(await admin.page.getByRole('main').locator('form').count(), 0, 'a revision is read only');
    await shot(admin.page, 'impact-revision');
  } finally {
    await admin.close();
  }

  // The editor changes the system's intended use: the assessment falls due again.
  await openSystem(page, url);
  await page.getByText('Edit details', { exact: true }).last().click();
  await page.getByLabel('Intended use', { exact: true }).fill('Decision support, and automatic pre-approval of small loans.');
  await page.locator('#details').getByRole('button', { name: 'Save' }).click();
  await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
  const due = page.getByRole('status').filter({ hasText: 'Re-assessment due' });
  await due.first().waitFor();
  assert.match(await due.first().innerText(), /Intended use changed/);
  await shot(page, 'ai-system-reassessment-due');
  await page.goto(assessmentUrl);
  await page.getByRole('status').filter({ hasText: /Re-assessment due: Intended use changed/ }).waitFor();
});
