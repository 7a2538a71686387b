// Accessibility checks with axe-core (pinned in package.json, injected from node_modules, so no
// network is needed) and screenshots at desktop and phone widths.
//
//   import { checkPage } from '../lib/axe.mjs';
//   await checkPage(page, 'risk-detail');   // axe at 1366 px and 390 px, two screenshots
//
// A page fails on any serious or critical violation; minor and moderate ones are printed so
// they can be looked at, but do not fail the journey.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { shot } from './browser.mjs';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** Desktop and phone widths every checked page is looked at in. */
export const VIEWPORTS = [
  { name: 'desktop', width: 1366, height: 900 },
  { name: 'phone', width: 390, height: 844 },
];

const FAILING = new Set(['serious', 'critical']);

/** Runs axe-core on the page as it is now; resolves to axe's violations. */
export async function axeViolations(page) {
  const loaded = await page.evaluate(() => typeof window.axe !== 'undefined');
  // Evaluated through the DevTools protocol, which the pages' Content-Security-Policy
  // (script-src 'self') does not apply to; a <script> tag would be refused.
  if (!loaded) await page.evaluate(AXE_SOURCE);
  return page.evaluate(async () => {
    // WCAG 2.x A and AA plus axe's best practices (landmarks, unique ids, heading order…).
    const result = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
      resultTypes: ['violations'],
    });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target.join(' '), summary: n.failureSummary })),
    }));
  });
}

/** One readable line per violation and node, for assertion messages. */
export function describe(violations) {
  return violations
    .flatMap((v) => v.nodes.slice(0, 5).map((n) => `  [${v.impact}] ${v.id} (${v.help}) at ${n.target}\n      ${(n.summary ?? '').replace(/\n/g, '\n      ')}`))
    .join('\n');
}

/**
 * Checks the current page at 1366 px and at 390 px: axe must report no serious or critical
 * violation at either width, and a full-page screenshot is saved for each
 * (screenshots/NAME-desktop.png, screenshots/NAME-phone.png). The viewport is restored after.
 * `viewports` and `screenshots: false` narrow it (a walk that has already looked at the same
 * page as another role).
 */
export async function checkPage(page, name, { viewports = VIEWPORTS, screenshots = true } = {}) {
  const original = page.viewportSize();
  const failures = [];
  try {
    for (const viewport of viewports) {
      await page.setViewportSize({ width: viewport.width, height: viewport.height });
      if (screenshots) await shot(page, `${name}-${viewport.name}`);
      const violations = await axeViolations(page);
      const serious = violations.filter((v) => FAILING.has(v.impact));
      const other = violations.filter((v) => !FAILING.has(v.impact));
      if (other.length) console.error(`[axe] ${name} at ${viewport.width} px, minor/moderate:\n${describe(other)}`);
      if (serious.length) failures.push(`at ${viewport.width} px:\n${describe(serious)}`);
    }
  } finally {
    if (original) await page.setViewportSize(original);
  }
  assert.equal(failures.length, 0, `axe found serious or critical violations on ${name} (${page.url()})\n${failures.join('\n')}`);
}
