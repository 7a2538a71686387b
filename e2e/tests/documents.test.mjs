// Documented information: evidence uploaded with what it supports and downloaded again, and a
// policy written by an editor, approved and published by an admin and acknowledged by a viewer.
//
// The journeys create what they need through the UI (a file made at test time, a new policy);
// they only rely on the demo having AI systems and on the shipped Annex A controls.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { login, newPage, shot } from '../lib/browser.mjs';
import { journey, useAims } from '../lib/harness.mjs';

const aims = useAims();

const EVIDENCE = 'Bias test report — loan pre-screening v2';
const POLICY = 'Use of generative AI tools';
const CONTROL = 'A.6.2.4';

/** A minimal one-page PDF (valid header, catalogue and trailer), written to a fresh folder. */
function makePdf() {
  const dir = mkdtempSync(path.join(tmpdir(), 'aims-e2e-'));
  const file = path.join(dir, 'bias-test-report.pdf');
  const body = [
    '%PDF-1.4',
    '1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj',
    '2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj',
    '3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >> endobj',
    'trailer << /Root 1 0 R >>',
    '%%EOF',
    '',
  ].join('\n');
  writeFileSync(file, body);
  const exe = path.join(dir, 'setup.exe');
  writeFileSync(exe, Buffer.from([0x4d, 0x5a, 0x90, 0x00, 0x03, 0x00, 0x00, 0x00]));
  return { dir, file, exe, bytes: Buffer.from(body) };
}

/** Signs in `user` in a second browser context; returns its page and a closer. */
async function asAnother(user, url) {
  const { context, page } = await newPage(aims.browser);
  await login(page, url, user.email, user.password);
  return { page, close: () => context.close() };
}

journey(aims, 'an editor uploads evidence for a control and an AI system, sees what it supports and downloads it', async ({ page, url, users }) => {
  const files = makePdf();
  await login(page, url, users.editor.email, users.editor.password);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Evidence' }).click();
  await page.getByRole('heading', { level: 1, name: 'Evidence' }).waitFor();
  await shot(page, 'evidence-list');

  const upload = page.getByRole('region', { name: 'Upload evidence' });
  // A file of a type aims does not take is refused next to the file field; nothing is stored.
  await upload.getByLabel('File', { exact: true }).setInputFiles(files.exe);
  await upload.getByLabel('Title', { exact: true }).fill('Installer');
  await upload.getByRole('button', { name: 'Upload' }).click();
  const fileError = page.locator('#file-error');
  await fileError.waitFor();
  assert.match(await fileError.innerText(), /not accepted|does not match/);
  assert.equal(await page.getByLabel('File', { exact: true }).getAttribute('aria-invalid'), 'true');
  assert.equal(await page.getByLabel('Title', { exact: true }).inputValue(), 'Installer', 'the typed title comes back');
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, 'evidence-upload-refused');

  // The real upload: a PDF linked to an Annex A control and an AI system.
  await page.getByLabel('File', { exact: true }).setInputFiles(files.file);
  await page.getByLabel('Title', { exact: true }).fill(EVIDENCE);
  await page.getByLabel('Kind of evidence', { exact: true }).selectOption({ label: 'Test result' });
  await page.getByLabel('Description', { exact: true }).fill('Disparate-impact tests on the v2 model before release.');
  const systems = page.getByRole('group', { name: 'AI systems', exact: true });
  const firstSystem = systems.locator('label').first();
  const systemName = (await firstSystem.innerText()).trim();
  await firstSystem.getByRole('checkbox').check();
  await page.getByRole('group', { name: 'Controls', exact: true }).getByRole('checkbox', { name: new RegExp(`^${CONTROL.replaceAll('.', '\\.')}\\b`) }).check();
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, 'evidence-upload-form');
  await page.getByRole('region', { name: 'Upload evidence' }).getByRole('button', { name: 'Upload' }).click();

  await page.getByRole('heading', { level: 1, name: EVIDENCE }).waitFor();
  await page.getByRole('status').filter({ hasText: 'Evidence uploaded' }).waitFor();
  const supports = page.getByRole('region', { name: 'Supports', exact: true });
  await supports.getByRole('link', { name: systemName }).waitFor();
  await supports.getByRole('link', { name: new RegExp(`^${CONTROL.replaceAll('.', '\\.')} `) }).waitFor();
  assert.match(await supports.innerText(), /AI systems[\s\S]*Controls/i);
  const file = page.getByRole('region', { name: 'File', exact: true });
  assert.match(await file.innerText(), /bias-test-report\.pdf[\s\S]*application\/pdf[\s\S]*SHA-256/);
  await shot(page, 'evidence-detail');

  // The download is the same file.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download', exact: true }).click(),
  ]);
  assert.equal(download.suggestedFilename(), 'bias-test-report.pdf');
  const saved = path.join(files.dir, 'downloaded.pdf');
  await download.saveAs(saved);
  assert.deepEqual(readFileSync(saved), files.bytes);

  // The control's evidence is one click away, and the register lists the upload.
  await page.goto(`${url}/orgs/demo/evidence`);
  const row = page.getByRole('row').filter({ hasText: EVIDENCE });
  await row.waitFor();
  assert.match(await row.innerText(), /Test result[\s\S]*bias-test-report\.pdf[\s\S]*2 records/);
  await shot(page, 'evidence-list-after-upload');
});

journey(aims, 'an editor writes a policy, an admin approves and publishes it, a viewer acknowledges it', async ({ page, url, users }) => {
  await login(page, url, users.editor.email, users.editor.password);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Policies' }).click();
  await page.getByRole('heading', { level: 1, name: 'Policies' }).waitFor();
  await shot(page, 'policies');
  await page.getByRole('link', { name: 'New policy' }).click();
  await page.getByLabel('Title', { exact: true }).fill(POLICY);
  await page.getByLabel('Topic', { exact: true }).selectOption({ label: 'Acceptable use' });
  await page.getByLabel('Summary', { exact: true }).fill('When and how staff may use generative AI tools at work.');
  await page.getByLabel('Text', { exact: true }).fill(
    'Purpose\nThis policy sets the rules for using generative AI tools at Northwind Lending.\n\n' +
      'Rules\nUse only the tools on the approved list.\nNever paste customer data into a public tool.\n\n' +
      'Questions\nAsk the AI governance team.',
  );
  await page.getByRole('group', { name: 'Controls', exact: true }).getByRole('checkbox', { name: /^A\.2\.2\b/ }).check();
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, 'policy-new');
  await page.getByRole('button', { name: 'Create draft' }).click();
  await page.getByRole('heading', { level: 1, name: POLICY }).waitFor();
  await page.getByRole('status').filter({ hasText: 'Draft created' }).waitFor();
  assert.match(await page.locator('[aria-current="step"]').innerText(), /Draft/);

  await page.getByRole('button', { name: 'Submit for review' }).click();
  await page.getByRole('status').filter({ hasText: 'Submitted for review' }).waitFor();
  assert.match(await page.locator('[aria-current="step"]').innerText(), /In review/);
  assert.equal(await page.getByRole('button', { name: 'Approve' }).count(), 0, 'an editor gets no approve button');
  const policyUrl = page.url().split(/[?#]/)[0];
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, 'policy-in-review');

  // The admin approves and publishes.
  const admin = await asAnother(users.admin, url);
  try {
    await admin.page.goto(policyUrl);
    await admin.page.getByRole('button', { name: 'Approve' }).click();
    await admin.page.getByRole('status').filter({ hasText: 'Approved' }).waitFor();
    await admin.page.getByRole('button', { name: 'Publish revision 1' }).click();
    await admin.page.getByRole('status').filter({ hasText: 'Published as revision 1' }).waitFor();
    assert.match(await admin.page.locator('[aria-current="step"]').innerText(), /Published/);
    await admin.page.evaluate(() => window.scrollTo(0, 0));
    await shot(admin.page, 'policy-published');
  } finally {
    await admin.close();
  }

  // The viewer acknowledges it, once, and sees the acknowledgement listed.
  const viewer = await asAnother(users.viewer, url);
  try {
    await viewer.page.goto(policyUrl);
    const main = viewer.page.getByRole('main');
    assert.equal(await main.getByRole('button', { name: 'Save' }).count(), 0, 'a viewer gets no edit form');
    await main.getByRole('button', { name: 'Acknowledge revision 1' }).click();
    await viewer.page.getByRole('status').filter({ hasText: 'acknowledgement of revision 1 is recorded' }).waitFor();
    const acks = viewer.page.getByRole('region', { name: 'Acknowledgements', exact: true });
    await acks.getByText(/You acknowledged revision 1 on/).waitFor();
    const rows = acks.getByRole('row');
    assert.equal(await rows.count(), 2, 'a header and one acknowledgement');
    assert.match(await rows.nth(1).innerText(), /\d{4}-\d{2}-\d{2}/, 'who acknowledged revision 1, and when');
    assert.equal(await acks.getByRole('button', { name: /Acknowledge/ }).count(), 0);
    await viewer.page.evaluate(() => window.scrollTo(0, 0));
    await shot(viewer.page, 'policy-acknowledged');
    await viewer.page.goto(`${url}/orgs/demo/policies`);
    const listed = viewer.page.getByRole('row').filter({ hasText: POLICY });
    assert.match(await listed.innerText(), /Published[\s\S]*Revision 1[\s\S]*1 of/);
    await shot(viewer.page, 'policies-after-publish');
  } finally {
    await viewer.close();
  }

  // The editor starts the next edition and compares it with the published revision.
  await page.goto(policyUrl);
  await page.getByText('Edit the policy').click();
  const text = page.getByLabel('Text', { exact: true });
  await text.fill((await text.inputValue()).replace('Never paste customer data into a public tool.', 'Never paste customer or employee data into any external tool.'));
  await page.getByRole('region', { name: 'Edit the policy' }).getByRole('button', { name: 'Save' }).click();
  await page.getByRole('status').filter({ hasText: 'new draft edition' }).waitFor();
  await page.getByRole('link', { name: 'Compare with this edition' }).click();
  await page.getByRole('heading', { level: 1, name: POLICY }).waitFor();
  const diff = page.getByRole('list', { name: /Text lines/ });
  assert.match(await diff.locator('del').first().innerText(), /Removed:\s*Never paste customer data into a public tool\./);
  assert.match(await diff.locator('ins').first().innerText(), /Added:\s*Never paste customer or employee data/);
  await shot(page, 'policy-diff');
  await page.getByRole('link', { name: POLICY }).click();
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, 'policy-new-edition');

  // The new edition is sent back with a reason the editor reads on the page; meanwhile the
  // revision in force can still be acknowledged.
  await page.getByLabel('Note for the reviewer', { exact: true }).fill('Widens the data rule to employees.');
  await page.getByRole('button', { name: 'Submit for review' }).click();
  await page.getByRole('status').filter({ hasText: 'Submitted for review' }).waitFor();
  const reviewer = await asAnother(users.admin, url);
  try {
    await reviewer.page.goto(policyUrl);
    await reviewer.page.getByLabel('What must change', { exact: true }).fill('Name the approved tools list and where to find it.');
    await reviewer.page.getByRole('button', { name: 'Send back to draft' }).click();
    await reviewer.page.getByRole('status').filter({ hasText: 'Sent back to draft' }).waitFor();
    await reviewer.page.getByRole('button', { name: 'Acknowledge revision 1 (in force)' }).click();
    await reviewer.page.getByRole('status').filter({ hasText: 'acknowledgement of revision 1 is recorded' }).waitFor();
    const acks = reviewer.page.getByRole('region', { name: 'Acknowledgements', exact: true });
    assert.equal(await acks.getByRole('row').count(), 3, 'a header and both acknowledgements of revision 1');
    await reviewer.page.evaluate(() => window.scrollTo(0, 0));
    await shot(reviewer.page, 'policy-acknowledged-while-drafting');
  } finally {
    await reviewer.close();
  }
  await page.goto(policyUrl);
  const notes = page.getByRole('region', { name: 'Review notes', exact: true }).getByRole('listitem');
  assert.match(await notes.first().innerText(), /Sent back to draft[\s\S]*Name the approved tools list and where to find it\./);
  assert.match(await notes.nth(1).innerText(), /Submitted for review[\s\S]*Widens the data rule to employees\./);
  await shot(page, 'policy-sent-back');
});
