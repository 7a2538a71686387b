// Members managed in the product: an admin invites someone, who opens the link in their own
// browser, chooses a name and password and lands signed in; the admin changes their role and
// deactivates them, after which their session no longer opens the organisation. Axe checks
// on the members page and the invitation page.

import assert from 'node:assert/strict';
import { login, newPage, shot } from '../lib/browser.mjs';
import { checkPage } from '../lib/axe.mjs';
import { journey, useAims } from '../lib/harness.mjs';

const aims = useAims();

journey(aims, 'an admin invites a member, who accepts and signs in; the admin changes the role and deactivates them', async ({ page, url, users }) => {
  await login(page, url, users.admin.email, users.admin.password);
  await page.goto(`${url}/orgs/demo/members`);
  await page.getByRole('heading', { level: 1, name: 'Members' }).waitFor();
  await page.getByRole('cell', { name: new RegExp(users.owner.email) }).first().waitFor();
  await checkPage(page, 'members');

  await page.getByLabel('E-mail address').fill('riley.reviewer@demo.example');
  await page.getByLabel('Role', { exact: true }).selectOption('editor');
  await page.getByRole('button', { name: 'Create invitation' }).click();
  const link = (await page.locator('#invite-link').innerText()).trim();
  assert.match(link, /\/invitations\/invite_/);
  await page.getByRole('cell', { name: 'riley.reviewer@demo.example', exact: true }).waitFor();
  await shot(page, 'members-invited');

  // The invited person, in a browser of their own.
  const { context: theirs, page: invitee } = await newPage(aims.browser);
  try {
    await invitee.goto(link);
    await invitee.getByRole('heading', { name: /Join Northwind Lending/ }).waitFor();
    await checkPage(invitee, 'invitation');
    await invitee.getByLabel('Your name').fill('Riley Reviewer');
    await invitee.getByLabel('Choose a password').fill('violet kayak under nine bridges');
    await invitee.getByRole('button', { name: 'Accept and sign in' }).click();
    await invitee.waitForURL(`${url}/orgs/demo/`);
    await invitee.getByText('Riley Reviewer').first().waitFor();
    // The link works once.
    await invitee.goto(link);
    await invitee.getByRole('heading', { name: 'This link is not valid' }).waitFor();

    // The admin sees them, makes them a viewer, then deactivates them.
    await page.goto(`${url}/orgs/demo/members`);
    const people = page.getByRole('region', { name: 'People' });
    const row = people.getByRole('row').filter({ hasText: 'riley.reviewer@demo.example' });
    await row.getByLabel('Role of Riley Reviewer', { exact: true }).selectOption('viewer');
    await row.getByRole('button', { name: 'Save the role of Riley Reviewer' }).click();
    await page.getByText('Role changed').waitFor();
    page.once('dialog', (dialog) => dialog.accept());
    await row.getByRole('button', { name: 'Deactivate Riley Reviewer' }).click();
    await page.getByText('Member deactivated').waitFor();
    await row.getByText('Deactivated').waitFor();
    await shot(page, 'members-deactivated');

    const response = await invitee.goto(`${url}/orgs/demo/ai-systems`);
    assert.equal(response.status(), 404, 'a deactivated member no longer opens the organisation');
  } finally {
    await theirs.close();
  }
});

journey(aims, 'a member changes their own display name from the account page', async ({ page, url, users }) => {
  await login(page, url, users.editor.email, users.editor.password);
  await page.locator('a.user-text').click();
  await page.waitForURL(`${url}/orgs/demo/account`);
  await page.getByRole('heading', { level: 1, name: 'Your account' }).waitFor();
  await checkPage(page, 'account');
  await page.getByLabel('Name', { exact: true }).fill('Ethan E. Editor');
  await page.getByRole('button', { name: 'Save name' }).click();
  await page.getByText('Display name changed.').waitFor();
  await page.locator('.user-name').filter({ hasText: 'Ethan E. Editor' }).waitFor();
});
