// Accessibility walk: the main pages, as every role sees them, checked with axe-core at desktop
// and phone widths (0 serious or critical violations) and screenshotted at both widths.
// Also the phone layout itself: the menu button opens the navigation, and wide tables do not
// make the page scroll sideways.

import assert from 'node:assert/strict';
import { login } from '../lib/browser.mjs';
import { checkPage } from '../lib/axe.mjs';
import { journey, useAims } from '../lib/harness.mjs';

const aims = useAims();

/** List pages and, for each, whether to open its first record too. */
const PAGES = [
  ['dashboard', '/', false],
  ['requirements', '/requirements', true],
  ['controls', '/controls', true],
  ['ai-systems', '/ai-systems', true],
  ['risks', '/risks', true],
  ['risk-criteria', '/risk-criteria', false],
  ['policies', '/policies', true],
  ['objectives', '/objectives', true],
  ['evidence', '/evidence', true],
  ['people', '/people', true],
  ['communications', '/communications', true],
  ['actions', '/actions', true],
  ['activity', '/activity', false],
  ['tokens', '/tokens', false],
];

/** The first link in the page's main content that leads to one record of `path`. */
async function firstRecordHref(page, path) {
  const prefix = `/orgs/demo${path}/`;
  const hrefs = await page
    .getByRole('main')
    .locator(`a[href^="${prefix}"]`)
    .evaluateAll((links) => links.map((a) => a.getAttribute('href')));
  return hrefs.find((h) => !h.endsWith('/new') && !h.includes('?') && h.slice(prefix.length).length > 0);
}

/** Pages whose forms and buttons differ by role: every other role walks these. */
const ROLE_PAGES = new Set(['dashboard', 'controls', 'ai-systems', 'risks', 'policies']);

/**
 * The owner walks every main page and the first record of each list; the other roles walk the
 * pages that differ by role (list and record), which keeps the suite quick on two cores.
 */
for (const role of ['owner', 'admin', 'editor', 'auditor', 'viewer']) {
  journey(
    aims,
    `axe finds nothing serious on the main pages as ${role}`,
    async ({ page, url, users }) => {
      await login(page, url, users[role].email, users[role].password);
      // Every page is checked before the journey fails, so one run lists every problem.
      const problems = [];
      const check = (name) => checkPage(page, name).catch((error) => problems.push(error.message));
      for (const [name, path, detail] of PAGES) {
        if (role !== 'owner' && !ROLE_PAGES.has(name)) continue;
        const response = await page.goto(`${url}/orgs/demo${path}`);
        assert.equal(response.status(), 200, `${path} as ${role}`);
        await check(`a11y-${role}-${name}`);
        if (detail) {
          const href = await firstRecordHref(page, path);
          assert.ok(href, `a record link on ${path}`);
          const opened = await page.goto(`${url}${href}`);
          assert.equal(opened.status(), 200, `${href} as ${role}`);
          await check(`a11y-${role}-${name}-detail`);
        }
      }
      assert.equal(problems.length, 0, problems.join('\n\n'));
    },
    { timeout: 300_000 },
  );
}

journey(aims, 'on a phone the menu button opens the navigation and tables stay within the screen', async ({ page, url, users }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await login(page, url, users.editor.email, users.editor.password);
  await page.goto(`${url}/orgs/demo/controls`);
  const nav = page.getByRole('navigation', { name: 'Main' });
  assert.equal(await nav.getByRole('link', { name: 'Activity log' }).isVisible(), false, 'the navigation is folded away');
  await page.getByText('Menu', { exact: true }).click();
  await nav.getByRole('link', { name: 'Activity log' }).click();
  await page.waitForURL((u) => u.pathname === '/orgs/demo/activity');
  for (const path of ['/', '/controls', '/activity', '/risks', '/ai-systems', '/tokens']) {
    await page.goto(`${url}/orgs/demo${path}`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 1, `${path} scrolls sideways by ${overflow} px at 390 px`);
  }
});
