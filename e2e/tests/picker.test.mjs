// Link pickers: once the organisation has more AI systems than a form lists, a risk's "AI
// systems affected" is a search. With scripts htmx fetches the matches as one types; without,
// the Search button sends the form back to its page with the matches, keeping what was typed.

import assert from 'node:assert/strict';
import { login, newPage, shot } from '../lib/browser.mjs';
import { checkPage } from '../lib/axe.mjs';
import { journey, useAims } from '../lib/harness.mjs';

const aims = useAims();
const SYSTEMS = 30;

/** Registers `SYSTEMS` AI systems through the UI's own form (same origin, signed in). */
async function registerSystems(page, url) {
  for (let n = 1; n <= SYSTEMS; n += 1) {
    const name = `Picker system ${String(n).padStart(2, '0')}`;
    const response = await page.request.post(`${url}/orgs/demo/ai-systems/new`, {
      form: { name, intended_use: 'Ranking support' },
      headers: { origin: url },
      maxRedirects: 0,
    });
    assert.equal(response.status(), 303, `${name}: ${await response.text()}`);
  }
}

/** Opens the first risk of the register; returns its path. */
async function openFirstRisk(page, url) {
  await page.goto(`${url}/orgs/demo/risks`);
  await page.locator('a.row-link').first().click();
  await page.getByRole('group', { name: 'AI systems affected' }).waitFor();
  return new URL(page.url()).pathname;
}

journey(aims, 'a risk links an AI system found by typing in its picker', async ({ page, url, users }) => {
  await login(page, url, users.editor.email, users.editor.password);
  await registerSystems(page, url);
  const path = await openFirstRisk(page, url);
  const picker = page.getByRole('group', { name: 'AI systems affected' });
  assert.equal(await picker.getByRole('checkbox', { name: 'Picker system 01' }).count(), 0, 'not every system is listed');

  await picker.getByLabel('Search AI systems affected').pressSequentially('picker system 2', { delay: 20 });
  const found = picker.getByRole('checkbox', { name: 'Picker system 27' });
  await found.waitFor();
  assert.equal(new URL(page.url()).pathname, path, 'the typeahead does not leave the page');
  await found.check();
  await checkPage(page, 'risk-picker-typeahead');
  await page.getByRole('button', { name: 'Save' }).first().click();
  await page.getByRole('status').waitFor();
  await page.getByRole('group', { name: 'AI systems affected' }).getByRole('checkbox', { name: 'Picker system 27', checked: true }).waitFor();
  await shot(page, 'risk-picker-linked');
});

journey(aims, 'without scripts the picker searches by sending the form back to its page', async ({ url, users }) => {
  const context = await aims.browser.newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 844 }, locale: 'en-GB' });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  try {
    await login(page, url, users.editor.email, users.editor.password);
    const path = await openFirstRisk(page, url);
    const title = page.getByLabel('Title', { exact: true });
    const typed = `${await title.inputValue()} (reviewed)`;
    await title.fill(typed);
    const picker = page.getByRole('group', { name: 'AI systems affected' });
    await picker.getByLabel('Search AI systems affected').fill('picker system 13');
    await picker.getByRole('button', { name: 'Search AI systems affected' }).click();
    await picker.getByRole('checkbox', { name: 'Picker system 13' }).check();
    assert.equal(await page.getByLabel('Title', { exact: true }).inputValue(), typed, 'what was typed is kept');
    assert.equal(new URL(page.url()).pathname, path);
    await shot(page, 'risk-picker-no-script-390');
    await page.getByRole('button', { name: 'Save' }).first().click();
    await page.getByRole('group', { name: 'AI systems affected' }).getByRole('checkbox', { name: 'Picker system 13', checked: true }).waitFor();
    assert.equal(await page.getByLabel('Title', { exact: true }).inputValue(), typed, 'saved with the title typed');
  } finally {
    await context.close();
  }
});
