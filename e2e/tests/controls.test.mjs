// One Annex A control's page in the Statement of Applicability: read-only for a viewer,
// editable for an editor, and an exclusion needs a justification.

import assert from 'node:assert/strict';
import { login, shot } from '../lib/browser.mjs';
import { journey, useAims } from '../lib/harness.mjs';

const aims = useAims();

const CONTROL = 'A.2.2';

async function openControl(page, url, reference = CONTROL) {
  await page.goto(`${url}/orgs/demo/controls/${reference}`);
  await page.getByRole('main').getByText(reference).first().waitFor();
  await page.getByRole('heading', { level: 1 }).waitFor();
}

journey(aims, 'a viewer sees the dashboard but no edit form on a control page', async ({ page, url, users }) => {
  await login(page, url, users.viewer.email, users.viewer.password);
  await page.waitForURL(`${url}/orgs/demo/`);
  await page.getByRole('heading', { level: 1 }).filter({ hasText: 'Northwind Lending' }).waitFor();

  await openControl(page, url);
  const main = page.getByRole('main');
  const editable = main.locator('form, select, textarea, input:not([type=hidden])');
  assert.equal(await editable.count(), 0, 'a viewer should get no edit form');
  assert.equal(await main.getByRole('button', { name: /save/i }).count(), 0);
  await shot(page, 'control-detail-viewer');
});

journey(aims, 'an editor changes the implementation status and sees it saved', async ({ page, url, users }) => {
  await login(page, url, users.editor.email, users.editor.password);
  await openControl(page, url);
  const status = page.getByLabel('Implementation status', { exact: true });
  const before = await status.inputValue();
  const target = before === 'implemented' ? 'Partial' : 'Implemented';
  await status.selectOption({ label: target });
  await shot(page, 'control-detail-editor');
  await page.getByRole('main').getByRole('button', { name: /^save/i }).click();

  // The page confirms the save, and the stored value is the new one.
  await page.getByRole('status').filter({ hasText: /saved/i }).first().waitFor();
  await shot(page, 'control-detail-saved');
  await page.goto(`${url}/orgs/demo/controls/${CONTROL}`);
  const selected = await page.getByLabel('Implementation status', { exact: true }).evaluate((el) => el.selectedOptions[0]?.textContent.trim());
  assert.equal(selected, target);
});

journey(aims, 'excluding a control without a justification is refused with an error', async ({ page, url, users }) => {
  await login(page, url, users.editor.email, users.editor.password);
  await openControl(page, url, 'A.6.2.4');
  await page.getByLabel('Applicability', { exact: true }).selectOption({ label: 'Excluded' });
  await page.getByLabel('Justification', { exact: true }).fill('');
  await page.getByRole('main').getByRole('button', { name: /^save/i }).click();

  const main = page.getByRole('main');
  await main.getByText(/justification/i).filter({ hasText: /need|required|must|missing/i }).first().waitFor();
  assert.equal(await page.getByLabel('Justification', { exact: true }).getAttribute('aria-invalid'), 'true');
  await shot(page, 'control-exclusion-error');

  // Nothing was written: the control is still applicable.
  await page.goto(`${url}/orgs/demo/controls/A.6.2.4`);
  assert.equal(await page.getByLabel('Applicability', { exact: true }).evaluate((el) => el.selectedOptions[0]?.textContent.trim()), 'Applicable');
});
