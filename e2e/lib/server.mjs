// Starts a fresh `aims serve --demo` on a free loopback port with its own temporary SQLite
// database, and reads from its stderr what a test needs: the listening URL and the demo users.
//
//   const server = await startServer();
//   server.url            // "http://127.0.0.1:41234"
//   server.users.editor   // { email: "editor@demo.example", password: "…" }
//   await server.stop();  // kills the server and removes the database
//
// The binary comes from AIMS_BIN (default ../target/debug/aims, relative to e2e/).

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const E2E_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The aims binary under test, as an absolute path. */
export function aimsBin() {
  return path.resolve(E2E_DIR, process.env.AIMS_BIN || '../target/debug/aims');
}

const ROLES = ['owner', 'admin', 'editor', 'auditor', 'viewer'];
const LISTENING = /^listening on (https?:\/\/\S+)\s*$/;
const CREDENTIAL = /^(\S+@\S+\.\S+) (\S+)\s*$/;

// Servers still running when this process exits (a test timeout, Ctrl-C) are killed too, so a
// failed run never leaves an aims process holding a port.
const running = new Set();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => process.exit(130));
}

/**
 * Starts the server and resolves once it listens.
 * @param {{ demo?: boolean, timeoutMs?: number, env?: Record<string,string> }} [options]
 */
export async function startServer({ demo = true, timeoutMs = 60_000, env = {} } = {}) {
  const bin = aimsBin();
  if (!existsSync(bin)) {
    throw new Error(`aims binary not found at ${bin}: build it with \`cargo build -p aims\` or set AIMS_BIN`);
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'aims-e2e-'));
  const database = `sqlite:${path.join(dir, 'aims.db')}`;
  const args = ['serve', ...(demo ? ['--demo'] : []), '--bind', '127.0.0.1:0', '--database', database];
  // Neither a developer's environment nor the CI's may point the server elsewhere.
  const childEnv = { ...process.env, AIMS_DATABASE_URL: database, AIMS_BIND: '127.0.0.1:0', ...env };
  delete childEnv.AIMS_PUBLIC_URL;
  const child = spawn(bin, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: childEnv });
  running.add(child);

  const log = []; // every stderr/stdout line, for error messages
  const users = {};
  let exited = null;
  const exitedPromise = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      running.delete(child);
      resolve(exited);
    });
  });

  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`aims did not print "listening on" within ${timeoutMs} ms:\n${log.join('\n')}`));
    }, timeoutMs);
    const onLine = (line) => {
      log.push(line);
      const credential = CREDENTIAL.exec(line);
      if (credential) {
        const [, email, password] = credential;
        const role = ROLES.find((r) => email.startsWith(`${r}@`)) ?? email;
        users[role] = { email, password };
      }
      const listening = LISTENING.exec(line);
      if (listening) {
        clearTimeout(timer);
        resolve(listening[1].replace(/\/$/, ''));
      }
    };
    lines(child.stderr, onLine);
    lines(child.stdout, (line) => log.push(line));
    exitedPromise.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`aims exited (code ${code}, signal ${signal}) before listening:\n${log.join('\n')}`));
    });
  }).catch(async (error) => {
    child.kill('SIGKILL');
    await exitedPromise;
    await rm(dir, { recursive: true, force: true });
    throw error;
  });

  if (demo) {
    const missing = ROLES.filter((r) => !users[r]);
    if (missing.length) {
      child.kill('SIGKILL');
      await exitedPromise;
      await rm(dir, { recursive: true, force: true });
      throw new Error(`no demo credentials for ${missing.join(', ')} on stderr:\n${log.join('\n')}`);
    }
  }

  let stopped = false;
  return {
    url,
    users,
    database,
    log,
    /** Stops the server (SIGTERM, then SIGKILL after 5 s) and removes its database. */
    async stop() {
      if (stopped) return;
      stopped = true;
      if (!exited) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exitedPromise;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function lines(stream, onLine) {
  let buffer = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    buffer += chunk;
    let newline;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      onLine(buffer.slice(0, newline).replace(/\r$/, ''));
      buffer = buffer.slice(newline + 1);
    }
  });
  stream.on('end', () => {
    if (buffer) onLine(buffer);
  });
}
