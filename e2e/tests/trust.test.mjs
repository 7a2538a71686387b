// Transparency (A.8): an admin publishes an AI system's disclosure; an anonymous visitor reads
// it on the organisation's trust page and follows "raise a concern" to the public form, which
// names the system. The pages are checked with axe at desktop and phone widths.

import assert from 'node:assert/strict';
import { checkPage } from '../lib/axe.mjs';
import { login, newPage, shot } from '../lib/browser.mjs';
import { journey, useAims } from '../lib/harness.mjs';

// The server signs activity exports with a key derived from its sealing key; the trust page
// publishes the public half.
const aims = useAims({ env: { AIMS_SECRET_KEY: '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff' } });

const SYSTEM = 'CV screening assistant';

journey(aims, 'an admin publishes a disclosure, and the public reads it and raises a concern', async ({ page, url, users }) => {
  await login(page, url, users.admin.email, users.admin.password);
  await page.goto(`${url}/orgs/demo/ai-systems`);
  await page.getByRole('link', { name: SYSTEM }).first().click();
  await page.getByRole('heading', { level: 1, name: SYSTEM }).waitFor();
  await page.getByText('Disclosure not published on the trust page').waitFor();

  await page.getByText('Edit details', { exact: true }).last().click();
  const details = page.locator('#details');
  await details.getByLabel('Public description', { exact: true }).fill('A tool that suggests which applications recruiters read first for high-volume roles.');
  await details.getByLabel('Known limitations (public)', { exact: true }).fill('It learned from past hiring, so it can rank career breaks too low. It never rejects anyone.');
  await details.getByLabel('How people oversee it (public)', { exact: true }).fill('A recruiter reads every application before any rejection, whatever its rank.');
  await details.getByLabel('Disclosure published on the trust page', { exact: true }).check();
  await details.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
  await page.getByText('Disclosure published', { exact: true }).waitFor();
  await shot(page, 'trust-ai-system-published');
  const publicLink = page.getByRole('link', { name: /Read its public page/ });
  const publicHref = await publicLink.getAttribute('href');
  assert.match(publicHref, /^\/trust\/demo\/ai-systems\/[0-9a-f-]{36}$/);

  // A visitor without an account.
  const { context, page: visitor } = await newPage(aims.browser);
  try {
    await visitor.goto(`${url}/trust/demo`);
    await visitor.getByRole('heading', { level: 1, name: 'How Northwind Lending (demo) uses AI' }).waitFor();
    const listed = await visitor.locator('main').innerText();
    assert.match(listed, /Credit scoring model/);
    assert.match(listed, /Last changed \d{4}-\d{2}-\d{2}/);
    assert.match(listed, /Key \(hex\)\s+[0-9a-f]{64}/, 'the export-signing key is published');
    assert.doesNotMatch(listed, /Annex III|Gradient-boosted|Consumer Lending/, 'no internal field');
    await checkPage(visitor, 'trust-page');

    await visitor.getByRole('link', { name: SYSTEM }).click();
    await visitor.getByRole('heading', { level: 1, name: SYSTEM }).waitFor();
    assert.equal(new URL(visitor.url()).pathname, publicHref);
    const disclosure = await visitor.locator('main').innerText();
    assert.match(disclosure, /can rank career breaks too low/);
    assert.match(disclosure, /A recruiter reads every application/);
    assert.match(disclosure, /Version \d+ · last changed \d{4}-\d{2}-\d{2}/);
    assert.doesNotMatch(disclosure, /Historic CVs|People & Talent|Recruiters review every ranked list/, 'no internal field');
    await checkPage(visitor, 'trust-ai-system');
    await visitor.emulateMedia({ media: 'print' });
    await shot(visitor, 'trust-ai-system-print');
    await visitor.emulateMedia({ media: 'screen' });

    await visitor.getByRole('link', { name: `Raise a concern about ${SYSTEM}` }).click();
    await visitor.getByRole('heading', { level: 1, name: 'Raise a concern about an AI system' }).waitFor();
    assert.equal(await visitor.getByLabel('Which AI system or service?').inputValue(), SYSTEM);

    // Withdrawn: the public page is gone at once.
    await page.getByText('Edit details', { exact: true }).last().click();
    await page.locator('#details').getByLabel('Disclosure published on the trust page', { exact: true }).uncheck();
    await page.locator('#details').getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    const gone = await visitor.goto(`${url}${publicHref}`);
    assert.equal(gone.status(), 404);
  } finally {
    await context.close();
  }
});

journey(aims, 'the activity page offers the signed export', async ({ page, url, users }) => {
  await login(page, url, users.auditor.email, users.auditor.password);
  await page.goto(`${url}/orgs/demo/activity`);
  const link = page.getByRole('link', { name: 'Download signed JSON' });
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  const file = await download.path();
  const { readFile } = await import('node:fs/promises');
  const exported = JSON.parse(await readFile(file, 'utf8'));
  assert.equal(exported.format, 'aims-activity-export/1');
  assert.equal(exported.org.slug, 'demo');
  assert.ok(exported.events.length > 50);
  assert.equal(exported.head.hash, exported.events.at(-1).hash);
  assert.equal(exported.signature.algorithm, 'ed25519');
});
