#!/usr/bin/env node
// Runs the browser journeys with Node's built-in test runner (TAP on stdout, so CI can read
// the `# pass N` / `# fail N` summary lines).
//
//   node run.mjs                       every tests/*.test.mjs
//   node run.mjs tests/auth.test.mjs   only these files
//
// Environment: AIMS_BIN (default ../target/debug/aims), CHROMIUM_PATH (default
// /usr/bin/chromium), E2E_CONCURRENCY (test files run at once, default 1).
// Each test file starts its own server on a fresh database; see lib/server.mjs.

import { spawn } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromiumPath } from './lib/browser.mjs';
import { aimsBin } from './lib/server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

const bin = aimsBin();
if (!existsSync(bin)) {
  console.error(`e2e: aims binary not found at ${bin} (build with \`cargo build -p aims\` or set AIMS_BIN)`);
  process.exit(1);
}
if (!existsSync(chromiumPath())) {
  console.error(`e2e: Chromium not found at ${chromiumPath()} (apt-get install chromium, or set CHROMIUM_PATH)`);
  process.exit(1);
}

const args = process.argv.slice(2);
const files = args.filter((a) => !a.startsWith('-'));
const options = args.filter((a) => a.startsWith('-'));
const tests = files.length
  ? files
  : readdirSync(path.join(here, 'tests'))
      .filter((f) => f.endsWith('.test.mjs'))
      .sort()
      .map((f) => path.join('tests', f));
if (tests.length === 0) {
  console.error('e2e: no test files');
  process.exit(1);
}

// Screenshots are of this run only.
rmSync(path.join(here, 'screenshots'), { recursive: true, force: true });

const concurrency = process.env.E2E_CONCURRENCY || '1';
const child = spawn(
  process.execPath,
  ['--test', '--test-reporter=tap', `--test-concurrency=${concurrency}`, ...options, ...tests],
  { cwd: here, stdio: 'inherit', env: { ...process.env, AIMS_BIN: bin } },
);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
