// The record pages generated from the kind declarations, walked by every role.
//
// Which kinds and pages there are is not listed here: the server's /orgs/{org}/pages.json is
// derived from the same declarations (`aims-ui` `pages::PAGES` and each kind's workflow) that
// generate the pages, so a kind added there is walked here too. For every role and kind the
// walk opens the list, the new page, a record's page (its details and edit form), the archive
// step and the revisions, and checks each with axe-core: 0 serious or critical violations.
// The owner (offered every control) and the viewer (offered none) are checked at 1366 and
// 390 px with both screenshots saved (screenshots/walk-ROLE-KIND-PAGE-{desktop,phone}.png);
// admin, editor and auditor at 1366 px. It also checks what each role is offered: those who
// may not write a kind (auditor and viewer for most; editor and viewer for audit records) see no form that changes anything, are refused the new page,
// and their direct posts (create, save, archive, every declared transition) are refused with
// a 403 naming the rule, leaving the record unchanged. The roles walk two at a time
// (E2E_WALK_CONCURRENCY) against the one server of this file.

import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { login } from '../lib/browser.mjs';
import { VIEWPORTS, checkPage } from '../lib/axe.mjs';
import { journey, useAims } from '../lib/harness.mjs';

const aims = useAims();

const ROLES = ['owner', 'admin', 'editor', 'auditor', 'viewer'];
/** Roles the policy lets change records (`edit`) when the index names no writers of a kind. */
const EDITORS = new Set(['owner', 'admin', 'editor']);
/** Roles whose pages are checked at both widths and screenshotted (see `walkKind`). */
const FULL_CHECK = new Set(['owner', 'viewer']);

/** The generated pages, as the server derives them from the declarations. */
async function pageIndex(page, url) {
  const response = await page.request.get(`${url}/orgs/demo/pages.json`);
  assert.equal(response.status(), 200, 'pages.json');
  const { pages } = await response.json();
  assert.ok(pages.length > 0, 'the index lists the declared pages');
  return pages;
}

/** Links in the main content to one record of the list at `list` (not /new, not a query). */
async function recordHrefs(page, list) {
  const prefix = `${list}/`;
  const hrefs = await page
    .getByRole('main')
    .locator(`a[href^="${prefix}"]`)
    .evaluateAll((links) => links.map((a) => a.getAttribute('href')));
  return hrefs.filter((h) => !h.endsWith('/new') && !h.includes('?') && !h.slice(prefix.length).includes('/'));
}

/** Forms in the main content that post (a search or filter form is a GET). */
async function postingForms(page) {
  return page
    .getByRole('main')
    .locator('form')
    .evaluateAll((forms) => forms.filter((f) => (f.getAttribute('method') || 'get').toLowerCase() === 'post').map((f) => f.getAttribute('action') || '(this page)'));
}

/** A form post as the browser would send it, with the session cookie and the page's origin. */
async function postForm(page, url, path, form) {
  return page.request.post(`${url}${path}`, { form, headers: { Origin: url }, maxRedirects: 0 });
}

/** The record's version as the API reads it (the session cookie serves the API too). */
async function versionOf(page, url, kindPages, id) {
  const collection = kindPages.list.split('/').pop();
  const path = id ? `${collection}/${id}` : collection;
  const response = await page.request.get(`${url}/api/v1/orgs/demo/${path}`);
  assert.equal(response.status(), 200, `API read of ${path}`);
  return (await response.json()).version;
}

/** A refused post: 403, naming the rule, and nothing changed. */
async function assertRefused(response, what) {
  assert.equal(response.status(), 403, `${what} is refused with 403, not ${response.status()}`);
  assert.match(await response.text(), /rule role-permission/, `${what}: the refusal names the rule`);
}

/** Opens `path`; resolves to its status, or 0 when the browser could not show it at all. */
async function open(page, url, path) {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return (await page.goto(`${url}${path}`)).status();
    } catch (error) {
      // Chromium's own error page after a failed load can interrupt the next navigation once.
      if (attempt < 2 && /interrupted by another navigation/.test(error.message)) continue;
      return `not shown (${error.message.split('\n')[0]})`;
    }
  }
}

/** Walks one kind's pages as `role`; what is wrong is pushed onto `problems`. */
async function walkKind(page, url, role, kind, problems) {
  // Audit records are written by owner, admin and auditor: the index names each kind's writers.
  const editor = kind.writers ? kind.writers.includes(role) : EDITORS.has(role);
  // The owner (offered every control) and the viewer (offered none) are looked at in full, at
  // both widths with screenshots; the roles in between are checked with axe at desktop width,
  // which keeps the walk within a few minutes on two cores.
  const full = FULL_CHECK.has(role);
  const check = (name) =>
    checkPage(page, `walk-${role}-${kind.kind}-${name}`, full ? {} : { viewports: [VIEWPORTS[0]], screenshots: false }).catch((error) =>
      problems.push(error.message),
    );
  const expect = (ok, message) => {
    if (!ok) problems.push(message);
  };
  const refused = (response, what) => assertRefused(response, what).catch((error) => problems.push(error.message));

  const listed = await open(page, url, kind.list);
  expect(listed === 200, `${kind.list} as ${role}: ${listed}`);
  await check(kind.singleton ? 'record' : 'list');

  if (kind.new) {
    const offersNew = (await page.getByRole('main').locator(`a[href="${kind.new}"]`).count()) > 0;
    expect(offersNew === editor, `${kind.list} as ${role}: a link to the new page is ${offersNew ? '' : 'not '}offered`);
    const status = await open(page, url, kind.new);
    if (editor) {
      expect(status === 200, `${kind.new} as ${role}: ${status}`);
      await check('new');
    } else {
      expect(status === 403, `${kind.new} as ${role} is refused (${status})`);
      await refused(await postForm(page, url, kind.new, {}), `creating a ${kind.label} as ${role}`);
    }
  }

  let href = kind.list;
  if (!kind.singleton) {
    await open(page, url, kind.list);
    [href] = await recordHrefs(page, kind.list);
    if (!href) {
      problems.push(`${kind.list}: no record to open (the demo organisation should hold one of every kind)`);
      return;
    }
    const status = await open(page, url, href);
    expect(status === 200, `${href} as ${role}: ${status}`);
    if (status !== 200) return;
    await check('record');
  }
  if (!kind.detail) return; // a hand-written page, which its own journeys check

  const id = kind.singleton ? null : href.split('/').pop();
  if (editor) {
    expect(await page.getByRole('button', { name: 'Save', exact: true }).isVisible(), `${href} as ${role}: the edit form is offered`);
    const archive = page.getByRole('main').getByRole('button', { name: /^Archive/ });
    if (!kind.singleton && (await archive.count()) > 0) {
      // Archiving without ticking "I mean it" is refused on the page itself: the archive step's page.
      await archive.first().click();
      await page.waitForLoadState('load');
      await check('archive');
      await open(page, url, href);
    }
  } else {
    const forms = await postingForms(page);
    expect(forms.length === 0, `${href} as ${role}: forms that change the record are shown: ${forms.join(', ')}`);
    const before = await versionOf(page, url, kind, id);
    await refused(await postForm(page, url, href, { version: String(before) }), `saving ${href} as ${role}`);
    const posts = kind.singleton ? [] : [`${href}/archive`, ...kind.transitions.map((t) => `${href}/transitions/${t.name}`)];
    for (const path of posts) {
      await refused(await postForm(page, url, path, { version: String(before), comment: 'walk', confirm: 'yes' }), `${path} as ${role}`);
    }
    expect((await versionOf(page, url, kind, id)) === before, `${href}: a refused post changed the record`);
  }
  // The decisions panel: each declared transition the record's state allows is either
  // offered (its form) or its absence explained. A transition's page is the record re-shown
  // after a post: for an offered one with a required field left blank, what is missing; for
  // one not offered, the refusal naming the rule. Neither changes the record.
  await open(page, url, href);
  for (const t of kind.transitions) {
    const form = page.getByRole('main').locator(`form[action="${href}/transitions/${t.name}"]`);
    const explained = page.getByRole('main').getByText(`${t.label} is not offered to you`);
    if ((await form.count()) > 0) {
      expect(editor, `${href} as ${role}: "${t.label}" is offered`);
      if ((await form.locator('textarea[required]').count()) === 0) continue; // posting it would take it
      await form.locator('textarea[required]').first().fill('');
      await form.evaluate((f) => f.requestSubmit());
      await page.waitForLoadState('load');
      await check(`transition-${t.name}`);
      await open(page, url, href);
    } else if ((await explained.count()) > 0) {
      await page.evaluate(({ action, version }) => {
        const f = Object.assign(document.createElement('form'), { method: 'post', action });
        f.append(Object.assign(document.createElement('input'), { type: 'hidden', name: 'version', value: version }));
        document.body.append(f);
        f.submit();
      }, { action: `${href}/transitions/${t.name}`, version: String(await versionOf(page, url, kind, id)) });
      await page.waitForURL(`${url}${href}/transitions/${t.name}`);
      const explainedAgain = await page.getByRole('main').getByText(`${t.label} is not offered to you`).count();
      expect(explainedAgain > 0, `${href}/transitions/${t.name} as ${role}: the refusal is shown with its reason`);
      if (!editor) {
        expect((await page.getByText(/rule role-permission/).count()) > 0, `${href}/transitions/${t.name} as ${role}: the refusal names the rule`);
      }
      await check(`transition-${t.name}-refused`);
      await open(page, url, href);
    }
  }
  const revisions = page.getByRole('main').locator(`a[href="${href}/revisions"]`);
  if ((await revisions.count()) > 0) {
    const status = await open(page, url, `${href}/revisions`);
    expect(status === 200, `${href}/revisions as ${role}: ${status}`);
    await check('revisions');
  }
}

describe('record pages generated from the declarations', { concurrency: Number(process.env.E2E_WALK_CONCURRENCY || 2) }, () => {
  for (const role of ROLES) {
    journey(
      aims,
      `every generated record page as ${role}: axe, screenshots and what the role is offered`,
      async ({ page, url, users }) => {
        await login(page, url, users[role].email, users[role].password);
        // Every page is checked before the journey fails, so one run lists every problem.
        const problems = [];
        for (const kind of await pageIndex(page, url)) await walkKind(page, url, role, kind, problems);
        assert.equal(problems.length, 0, problems.join('\n\n'));
      },
      { timeout: 600_000 },
    );
  }
});
