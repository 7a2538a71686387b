// The reports page: every report with its formats, a document downloaded with the browser's
// session (a real PDF with its file name), then listed as issued and current; axe-clean at
// desktop and phone widths, screenshotted at both.

import assert from 'node:assert/strict';
import { login } from '../lib/browser.mjs';
import { checkPage } from '../lib/axe.mjs';
import { journey, useAims } from '../lib/harness.mjs';

const aims = useAims();

journey(aims, 'the reports page offers every report and lists what was issued', async ({ page, url, users }) => {
  await login(page, url, users.auditor.email, users.auditor.password);
  await page.goto(`${url}/orgs/demo/reports`);
  await page.getByRole('heading', { name: 'Reports', level: 1 }).waitFor();
  for (const title of ['Statement of Applicability', 'Risk register', 'Stage 1 document pack', 'Management review']) {
    assert.ok(await page.getByRole('heading', { name: title, level: 3 }).isVisible(), `${title} is offered`);
  }
  const pdf = page.getByRole('link', { name: 'Statement of Applicability as PDF' });
  assert.equal(await pdf.getAttribute('href'), '/api/v1/orgs/demo/reports/soa?format=pdf');

  // The link works with the session: a PDF named after the organisation, the report and the day.
  const response = await page.request.get(`${url}/api/v1/orgs/demo/reports/soa?format=pdf`);
  assert.equal(response.status(), 200);
  assert.equal(response.headers()['content-type'], 'application/pdf');
  assert.match(response.headers()['content-disposition'] ?? '', /filename="demo-soa-\d{4}-\d{2}-\d{2}\.pdf"/);
  assert.equal((await response.body()).subarray(0, 5).toString(), '%PDF-');

  await page.reload();
  const issued = page.getByRole('table');
  await issued.getByText('Current').first().waitFor();
  assert.match(await issued.innerText(), /Statement of Applicability/);
  await checkPage(page, 'reports');
});
