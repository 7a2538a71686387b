// Single sign-on against a real OpenID provider (oidc-provider, run here on loopback with a
// client registered for aims): the owner configures SSO on its settings page; a new person
// signs in through the provider and becomes a member just in time with the mapped role; a
// wrong state, a wrong nonce, an expired code, a replayed code and an e-mail outside the
// allowed domains are each refused and sign nobody in; the client secret is nowhere in the
// database file; requiring SSO refuses password sign-in except to the break-glass owner; and
// the account page lists one's sessions, one of which is signed out from another.
// Axe checks at desktop and phone widths on the settings page and the sessions section.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import http from 'node:http';
import { after } from 'node:test';
import Provider from 'oidc-provider';
import { login, newPage, shot } from '../lib/browser.mjs';
import { checkPage } from '../lib/axe.mjs';
import { journey, useAims } from '../lib/harness.mjs';

const CLIENT_SECRET = 'aims-e2e-client-secret-4c1d9b7e2a';
/** Seconds a code lives at the provider: short, so one can be let expire. */
const CODE_TTL = 3;

const aims = useAims({ env: { AIMS_SECRET_KEY: '5a'.repeat(32) } });
const provider = { server: null, issuer: null };
/**
 * What the test alters at the provider, once each: the nonce an authorization request arrives
 * with, and the provider's answer to aims (held back: its URL is handed to the test instead).
 * Done at the provider because a browser does not let a test intercept a redirect.
 */
const tamper = { nonce: null, holdAnswer: null };

/** The people the provider knows: the login typed on its page is the account id. */
function account(id) {
  const email = id.includes('@') ? id : `${id}@demo.example`;
  const groups = email.startsWith('nia.') ? ['aims-editors'] : [];
  return {
    accountId: id,
    claims: () => ({ sub: `sub-${id}`, email, email_verified: true, name: email.split('@')[0].replace('.', ' '), groups }),
  };
}

/**
 * Starts the provider once, on first use (its client's redirect URI needs the aims server's
 * address, which the harness's own hook sets up).
 */
async function startProvider(aimsUrl) {
  if (provider.server) return;
  const server = http.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  provider.issuer = `http://127.0.0.1:${server.address().port}`;
  const oidc = new Provider(provider.issuer, {
    clients: [{
      client_id: 'aims',
      client_secret: CLIENT_SECRET,
      redirect_uris: [`${aimsUrl}/sso/demo/callback`],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    }],
    findAccount: (_ctx, id) => account(id),
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
    scopes: ['openid', 'email', 'profile', 'groups'],
    // The claims in the ID token itself (aims reads the ID token, not userinfo).
    conformIdTokenClaims: false,
    ttl: { AuthorizationCode: CODE_TTL },
    features: { devInteractions: { enabled: true } },
  });
  oidc.use(async (ctx, next) => {
    if (tamper.nonce && ctx.path === '/auth' && ctx.query.nonce) {
      const query = new URLSearchParams(ctx.querystring);
      query.set('nonce', tamper.nonce);
      ctx.querystring = query.toString();
      tamper.nonce = null;
    }
    await next();
    const location = ctx.response.get('location') ?? '';
    if (tamper.holdAnswer && location.includes('/sso/demo/callback')) {
      const hold = tamper.holdAnswer;
      tamper.holdAnswer = null;
      hold(new URL(location));
      ctx.remove('location');
      ctx.status = 200;
      ctx.type = 'html';
      ctx.body = '<!doctype html><title>held back</title><p>held back</p>';
    }
  });
  server.on('request', oidc.callback());
  provider.server = server;
}

after(async () => {
  provider.server?.closeAllConnections();
  await new Promise((resolve) => provider.server?.close(resolve) ?? resolve());
});

/** Holds back the provider's next answer to aims; resolves to its URL. */
function holdAnswer() {
  return new Promise((resolve) => {
    tamper.holdAnswer = resolve;
  });
}

/** Signs in at the provider's development pages (any password) and consents. */
async function providerSignIn(page, login, done = null) {
  await page.waitForURL((u) => u.origin === provider.issuer, { waitUntil: 'load' });
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any password');
  await page.locator('button[type="submit"]').click();
  // First time for this client: the consent page.
  const consent = page.locator('button[type="submit"]', { hasText: /continue/i });
  const back = done ?? page.waitForURL((u) => u.origin !== provider.issuer, { waitUntil: 'load' });
  await Promise.race([back, consent.waitFor().then(() => consent.click()).catch(() => {})]);
  await back;
  // A held-back answer: let the provider's stand-in page finish loading before going on.
  if (done) await page.getByText('held back').waitFor();
}

/**
 * To the provider: by e-mail through the sign-in page's form (which counts against the sign-in
 * rate limit of 10 a minute), or straight to the organisation's SSO address.
 */
async function startSso(page, url, who) {
  if (!who.includes('@')) {
    await page.goto(`${url}/sso/${who}`);
    return;
  }
  await page.goto(`${url}/login`);
  await page.getByLabel('Organisation or work e-mail').fill(who);
  await page.getByRole('button', { name: 'Continue with single sign-on' }).click();
}

/** The refusal page, then proof that the browser is not signed in. */
async function assertRefused(page, url, words) {
  await page.getByRole('heading', { name: 'You are not signed in' }).waitFor();
  const why = await page.getByRole('alert').innerText();
  assert.match(why, words);
  await page.goto(`${url}/orgs/demo/`);
  assert.equal(new URL(page.url()).pathname, '/login', 'nobody is signed in');
  return why;
}

/** In a browser of its own: `fn(page)`. */
async function fresh(fn) {
  const { context, page } = await newPage(aims.browser);
  try {
    return await fn(page);
  } finally {
    await context.close();
  }
}

journey(aims, 'the owner sets up SSO; a new person signs in through the provider and becomes a member just in time', async ({ page, url, users, server }) => {
  await startProvider(url);
  await login(page, url, users.owner.email, users.owner.password);
  await page.goto(`${url}/orgs/demo/settings/sso`);
  await page.getByRole('heading', { level: 1, name: 'Single sign-on' }).waitFor();
  await page.getByLabel('Offer “Sign in with SSO”').check();
  await page.getByLabel('Issuer URL').fill(provider.issuer);
  await page.getByLabel('Client ID').fill('aims');
  await page.getByLabel('Client secret').fill(CLIENT_SECRET);
  await page.getByLabel('Allowed e-mail domains').fill('demo.example');
  await page.getByLabel('Make people the provider signs in members just in time').check();
  await page.getByLabel('Role of a new member').selectOption('viewer');
  await page.getByLabel('Role claim (optional)').fill('groups');
  await page.getByLabel('Claim values to roles (optional)').fill('aims-editors = editor');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByRole('status').waitFor();
  await page.getByText('A secret is stored').waitFor();
  assert.equal(await page.getByLabel('Client secret').inputValue(), '', 'the secret is never shown');
  await checkPage(page, 'sso-settings');

  // The secret is sealed: its text is nowhere in the database's files.
  const file = server.database.replace(/^sqlite:/, '');
  for (const part of [file, `${file}-wal`].filter(existsSync)) {
    const bytes = await readFile(part);
    assert.equal(bytes.includes(Buffer.from(CLIENT_SECRET)), false, `${part} holds the secret in plain text`);
  }

  // A new person, by their e-mail address, through the provider, lands signed in.
  await fresh(async (them) => {
    await startSso(them, url, 'nia.new@demo.example');
    await providerSignIn(them, 'nia.new@demo.example');
    await them.waitForURL(`${url}/orgs/demo/`);
    await them.goto(`${url}/orgs/demo/account`);
    await them.getByText('Signed in as nia.new@demo.example').waitFor();
  });
  // The mapped role, and the events in the log.
  await page.goto(`${url}/orgs/demo/members`);
  const row = page.getByRole('row').filter({ hasText: 'nia.new@demo.example' }).first();
  await row.waitFor();
  assert.equal(await row.locator('select[name="role"]').inputValue(), 'editor', 'the role the groups claim maps to');
  await page.goto(`${url}/orgs/demo/activity`);
  await page.getByText(/sso sign in|sso_sign_in/i).first().waitFor();
  const log = await page.locator('main').innerText();
  assert.match(log, /sso_just_in_time|sso just in time/i);
  assert.equal(log.includes(CLIENT_SECRET), false);
});

journey(aims, 'a wrong state, a wrong nonce, an expired or replayed code and a foreign domain are each refused', async ({ url }) => {
  await startProvider(url);
  // Wrong state: the provider's answer comes back with another state.
  await fresh(async (page) => {
    const answer = holdAnswer();
    await startSso(page, url, 'demo');
    await providerSignIn(page, 'nia.new@demo.example', answer);
    const back = await answer;
    back.searchParams.set('state', 'not-the-state-aims-sent');
    await page.goto(back.toString());
    await assertRefused(page, url, /state does not match/);
  });

  // Wrong nonce: the authorization request reaches the provider with a nonce of its own.
  await fresh(async (page) => {
    tamper.nonce = 'a-nonce-aims-never-stored';
    await startSso(page, url, 'demo');
    await providerSignIn(page, 'nia.new@demo.example');
    assert.equal(tamper.nonce, null, 'the nonce was replaced');
    await assertRefused(page, url, /ID token is not valid/);
  });

  // Expired code: held back longer than the provider lets it live.
  await fresh(async (page) => {
    const answer = holdAnswer();
    await startSso(page, url, 'demo');
    await providerSignIn(page, 'nia.new@demo.example', answer);
    const back = await answer;
    await new Promise((resolve) => setTimeout(resolve, (CODE_TTL + 2) * 1000));
    await page.goto(back.toString());
    await assertRefused(page, url, /refused the sign-in code/);
  });

  // Replayed code: one that already signed someone in, offered again with a new sign-in's state.
  let usedCode = null;
  await fresh(async (page) => {
    const answer = holdAnswer();
    await startSso(page, url, 'demo');
    await providerSignIn(page, 'nia.new@demo.example', answer);
    const back = await answer;
    usedCode = back.searchParams.get('code');
    await page.goto(back.toString());
    await page.waitForURL(`${url}/orgs/demo/`);
  });
  assert.ok(usedCode, 'the first sign-in was seen');
  await fresh(async (page) => {
    const answer = holdAnswer();
    await startSso(page, url, 'demo');
    await providerSignIn(page, 'nia.new@demo.example', answer);
    const back = await answer;
    back.searchParams.set('code', usedCode);
    await page.goto(back.toString());
    await assertRefused(page, url, /refused the sign-in code/);
  });

  // An e-mail outside the allowed domains.
  await fresh(async (page) => {
    await startSso(page, url, 'demo');
    await providerSignIn(page, 'eve@elsewhere.example');
    await assertRefused(page, url, /not in a domain allowed/);
  });
  await fresh(async (page) => {
    await startSso(page, url, 'somebody@unknown.example');
    await page.getByText('No organisation offers single sign-on').waitFor();
    await shot(page, 'sso-refused');
  });
}, { timeout: 120_000 });

journey(aims, 'the sessions list shows each device; one is signed out from another; required SSO refuses passwords but the break-glass owner', async ({ page, url, users }) => {
  await login(page, url, users.owner.email, users.owner.password);
  const { context: phoneContext, page: phone } = await newPage(aims.browser);
  try {
    await login(phone, url, users.owner.email, users.owner.password);
    await page.goto(`${url}/orgs/demo/account`);
    const sessions = page.getByRole('region', { name: 'Sessions' });
    await sessions.getByText('This session', { exact: true }).waitFor();
    const rows = sessions.getByRole('row');
    assert.ok((await rows.count()) >= 3, 'a header and at least two sessions');
    assert.match(await sessions.innerText(), /Chrome on Linux|Chrome/);
    await checkPage(page, 'account-sessions');
    await sessions.getByRole('button', { name: 'Sign out all other sessions' }).click();
    await page.getByText('Every other session is signed out.').waitFor();
    await phone.goto(`${url}/orgs/demo/`);
    assert.equal(new URL(phone.url()).pathname, '/login', 'the other session is signed out');
  } finally {
    await phoneContext.close();
  }

  // Require SSO, with the owner as the break-glass owner.
  await page.goto(`${url}/orgs/demo/settings/sso`);
  await page.getByLabel('Refuse password sign-in and password reset to members').check();
  await page.getByLabel('Break-glass owner').fill(users.owner.email);
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByRole('status').waitFor();
  await fresh(async (other) => {
    await assert.rejects(login(other, url, users.editor.email, users.editor.password), /requires single sign-on/);
    await shot(other, 'sso-required-password-refused');
  });
  await fresh(async (other) => {
    await login(other, url, users.owner.email, users.owner.password);
    assert.notEqual(new URL(other.url()).pathname, '/login', 'the break-glass owner signs in');
  });
});
