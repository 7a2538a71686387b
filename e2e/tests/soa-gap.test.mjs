// The Statement of Applicability and the gap assessment in use: excluding a control (refused
// without a justification, accepted with one), approving the SoA and reading an approved
// revision back unchanged after a later edit, and walking the gap assessment to turn a gap
// into an action that its owner then finds under "My actions".

import assert from 'node:assert/strict';
import { login, newPage, shot } from '../lib/browser.mjs';
import { journey, useAims } from '../lib/harness.mjs';

const aims = useAims();

/** Signs in `user` in a second browser context; returns its page and a closer. */
async function asAnother(user, url) {
  const { context, page } = await newPage(aims.browser);
  await login(page, url, user.email, user.password);
  return { page, close: () => context.close() };
}

async function openControl(page, url, reference) {
  await page.goto(`${url}/orgs/demo/controls/${reference}`);
  await page.getByRole('heading', { level: 1 }).waitFor();
}

const save = (page) => page.getByRole('main').getByRole('button', { name: 'Save', exact: true }).click();

journey(aims, 'excluding a control is refused without a justification and accepted with one', async ({ page, url, users }) => {
  await login(page, url, users.editor.email, users.editor.password);
  await openControl(page, url, 'A.10.2');
  assert.equal(await page.getByLabel('Applicability', { exact: true }).evaluate((el) => el.selectedOptions[0]?.textContent.trim()), 'Applicable');
  await page.getByLabel('Applicability', { exact: true }).selectOption({ label: 'Excluded' });
  await page.getByLabel('Justification', { exact: true }).fill('');
  await save(page);

  const justification = page.getByLabel('Justification', { exact: true });
  await page.getByRole('main').getByText('An excluded control needs a justification').waitFor();
  assert.equal(await justification.getAttribute('aria-invalid'), 'true');
  await shot(page, 'soa-gap-exclusion-refused');

  // What was chosen is still on the form: only the justification is missing.
  assert.equal(await page.getByLabel('Applicability', { exact: true }).evaluate((el) => el.selectedOptions[0]?.textContent.trim()), 'Excluded');
  await justification.fill('No AI system is shared with partners or customers: responsibilities stay inside the organisation.');
  await save(page);

  await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
  assert.equal(await page.getByLabel('Justification', { exact: true }).getAttribute('aria-invalid'), null);
  await page.getByRole('main').locator('.meta').getByText('Excluded').waitFor();
  await shot(page, 'soa-gap-exclusion-accepted');

  // The SoA lists it as excluded, with its justification.
  await page.goto(`${url}/orgs/demo/controls`);
  const row = page.getByRole('row').filter({ hasText: 'A.10.2' });
  assert.match(await row.innerText(), /Excluded/);
  assert.match(await row.innerText(), /responsibilities stay inside the organisation/);
});

journey(aims, 'an approved SoA revision reads back unchanged after a later edit', async ({ page, url, users }) => {
  const ORIGINAL = 'Responsible-use objectives are set by the AI governance board each year.';
  const LATER = 'Rewritten after the approval by the editor.';

  // The editor writes the entry; the admin, who changed nothing since the last approval, may
  // approve (whoever changed an entry may not: separation of duties).
  const author = await asAnother(users.editor, url);
  try {
    await openControl(author.page, url, 'A.9.3');
    await author.page.getByLabel('Justification', { exact: true }).fill(ORIGINAL);
    await save(author.page);
    await author.page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
  } finally {
    await author.close();
  }

  await login(page, url, users.admin.email, users.admin.password);
  await page.goto(`${url}/orgs/demo/controls`);
  const approval = page.getByRole('region', { name: 'Approval' });
  await approval.getByLabel('Approval comment').fill('Reviewed at the quarterly governance board.');
  await approval.getByRole('button', { name: 'Approve this SoA' }).click();
  await page.getByRole('status').filter({ hasText: 'Statement of Applicability approved' }).waitFor();
  const headline = await approval.locator('.soa-headline').innerText();
  assert.match(headline, /Approved — revision \d+ by Arjun Mehta on \d{4}-\d{2}-\d{2}/);
  const n = headline.match(/revision (\d+)/)[1];
  await approval.getByText('No entry has changed since this approval.').waitFor();
  await shot(page, 'soa-gap-approved');

  // The editor changes the control afterwards; they get no approve form.
  const editor = await asAnother(users.editor, url);
  try {
    await openControl(editor.page, url, 'A.9.3');
    await editor.page.getByLabel('Justification', { exact: true }).fill(LATER);
    await save(editor.page);
    await editor.page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();

    await editor.page.goto(`${url}/orgs/demo/controls`);
    const state = editor.page.getByRole('region', { name: 'Approval' });
    assert.equal(await state.getByRole('button', { name: 'Approve this SoA' }).count(), 0);
    await state.getByText(/1 entry changed since the last approval/).click();
    await state.getByRole('link', { name: /A\.9\.3/ }).waitFor();
    await shot(editor.page, 'soa-gap-changed-since-approval');

    // The approved revision still holds the old value.
    await state.getByRole('link', { name: `Revision ${n}`, exact: true }).click();
    await editor.page.getByRole('heading', { level: 1, name: new RegExp(`revision ${n}`) }).waitFor();
    const entry = editor.page.getByRole('row').filter({ hasText: 'A.9.3' });
    assert.match(await entry.innerText(), new RegExp(ORIGINAL.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    assert.equal(await editor.page.getByText(LATER).count(), 0);
    await editor.page.getByText('Reviewed at the quarterly governance board.').waitFor();
    await shot(editor.page, 'soa-gap-revision');
  } finally {
    await editor.close();
  }
});

journey(aims, 'walking the gap assessment, a gap becomes an action in its owner\'s My actions', async ({ page, url, users }) => {
  const TITLE = 'Document how AI risks are analysed and rated';
  await login(page, url, users.admin.email, users.admin.password);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Gap assessment' }).click();
  await page.getByRole('heading', { level: 2, name: 'Progress per clause' }).waitFor();
  await shot(page, 'soa-gap-requirements');

  await page.goto(`${url}/orgs/demo/requirements/6.1.1`);
  const walk = page.getByRole('navigation', { name: /Guided walk/ });
  const position = async () => Number((await walk.innerText()).match(/Requirement (\d+) of 32/)[1]);
  const start = await position();

  // Next, then "Save and go to next".
  await walk.getByRole('link', { name: /Next requirement/ }).click();
  await page.waitForURL(/\/requirements\/6\.1\.2$/);
  assert.equal(await position(), start + 1);
  await page.getByLabel('Status', { exact: true }).selectOption({ label: 'Partial' });
  await page.getByLabel('Notes', { exact: true }).fill('Method drafted; rating scales still to be agreed.');
  await page.getByRole('button', { name: 'Save and go to next' }).click();
  await page.getByRole('status').filter({ hasText: /Saved 6\.1\.2\. This is the next requirement\./ }).waitFor();
  assert.equal(await position(), start + 2);
  assert.match(page.url(), /\/requirements\/6\.1\.3/);
  await walk.getByRole('link', { name: /Previous requirement/ }).click();
  await page.waitForURL(/\/requirements\/6\.1\.2$/);
  assert.equal(await position(), start + 1);
  assert.equal(await page.getByLabel('Status', { exact: true }).evaluate((el) => el.selectedOptions[0]?.textContent.trim()), 'Partial');
  await shot(page, 'soa-gap-walk');

  // Turn the gap into an action owned by the editor, due yesterday (so it is overdue).
  const due = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
  await page.getByText('Turn this gap into an action').click();
  const form = page.getByRole('form', { name: 'Turn this gap into an action' });
  await form.getByLabel('Action title').fill(TITLE);
  await form.getByLabel('Action owner').selectOption({ label: 'Elena Rossi (editor)' });
  await form.getByLabel('Due date').fill(due);
  await shot(page, 'soa-gap-action-form');
  await form.getByRole('button', { name: 'Create action' }).click();
  await page.getByRole('status').filter({ hasText: 'Action created' }).waitFor();
  const linked = page.getByRole('region', { name: /^Actions/ });
  await linked.getByRole('link', { name: TITLE }).waitFor();
  assert.match(await linked.innerText(), /Elena Rossi/);
  await shot(page, 'soa-gap-action-created');

  // The editor finds it first under My actions, marked overdue.
  const editor = await asAnother(users.editor, url);
  try {
    await editor.page.getByRole('link', { name: /My actions/ }).click();
    await editor.page.getByRole('heading', { level: 1, name: 'Actions' }).waitFor();
    const mine = editor.page.getByRole('region', { name: 'My actions' });
    const row = mine.getByRole('row').filter({ hasText: TITLE });
    await row.waitFor();
    assert.match(await row.innerText(), /Gap assessment[\s\S]*Overdue[\s\S]*Open/);
    await shot(editor.page, 'soa-gap-my-actions');

    // Its page says what raised it and links back to the requirement.
    await row.getByRole('link', { name: TITLE }).click();
    await editor.page.getByRole('heading', { level: 1, name: TITLE }).waitFor();
    await editor.page.getByRole('link', { name: /6\.1\.2/ }).waitFor();
    await shot(editor.page, 'soa-gap-action');
  } finally {
    await editor.close();
  }
});
