// Two-step sign-in: an admin invites a member, who accepts, sets up an authenticator app
// (codes computed here with node's crypto, RFC 6238) and signs in with a code; uses a recovery
// code once and finds it no longer works; an owner then requires two-step sign-in of owners
// and admins, after which an admin without it is led to enrol. Axe checks at desktop and phone
// widths on the enrolment, second-step and security settings pages.
//
// Passkeys are not built yet, so this journey has no virtual-authenticator part.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { login, newPage, shot } from '../lib/browser.mjs';
import { checkPage } from '../lib/axe.mjs';
import { journey, useAims } from '../lib/harness.mjs';

// The server is given its key, so it never writes a key file of its own.
const aims = useAims({ env: { AIMS_SECRET_KEY: '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff' } });

function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of text.replace(/[\s=]/g, '').toUpperCase()) {
    const value = alphabet.indexOf(c);
    assert.ok(value >= 0, `base32 character ${c}`);
    bits += value.toString(2).padStart(5, '0');
  }
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

/** The RFC 6238 code (SHA-1, 6 digits, 30 s steps) of `secret` at `seconds`. */
function totp(secret, seconds = Date.now() / 1000) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(seconds / 30)));
  const mac = createHmac('sha1', base32Decode(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(value).padStart(6, '0');
}

async function passwordStep(page, url, email, password) {
  await login(page, url, email, password);
  await page.waitForURL(`${url}/login/second-step`);
  await page.getByRole('heading', { level: 1, name: 'Two-step sign-in' }).waitFor();
}

async function signOut(page, url) {
  await page.goto(`${url}/orgs/demo/account`);
  await page.getByRole('button', { name: /^Sign out/ }).first().click();
  await page.waitForURL(/\/login/);
}

const EMAIL = 'morgan.member@demo.example';
const PASSWORD = 'amber lantern over quiet harbours';

journey(aims, 'a member enrols an authenticator app, signs in with a code and uses a recovery code once', async ({ page, url, users }) => {
  await login(page, url, users.admin.email, users.admin.password);
  await page.goto(`${url}/orgs/demo/members`);
  await page.getByLabel('E-mail address').fill(EMAIL);
  await page.getByLabel('Role', { exact: true }).selectOption('editor');
  await page.getByRole('button', { name: 'Create invitation' }).click();
  const link = (await page.locator('#invite-link').innerText()).trim();

  const { context: theirs, page: member } = await newPage(aims.browser);
  try {
    await member.goto(link);
    await member.getByLabel('Your name').fill('Morgan Member');
    await member.getByLabel('Choose a password').fill(PASSWORD);
    await member.getByRole('button', { name: 'Accept and sign in' }).click();
    await member.waitForURL(`${url}/orgs/demo/`);

    // Enrol from the account page.
    await member.locator('a.user-text').click();
    await member.getByRole('heading', { level: 2, name: 'Two-step sign-in' }).waitFor();
    await member.getByRole('link', { name: 'Manage two-step sign-in' }).click();
    await member.getByRole('button', { name: 'Set up an authenticator app' }).click();
    await member.getByRole('img', { name: /QR code/ }).waitFor();
    await checkPage(member, 'two-step-enrol');
    const secret = (await member.locator('#totp-secret').innerText()).replace(/\s+/g, '');
    await member.getByLabel('Six-digit code').fill(totp(secret) === '000000' ? '111111' : '000000');
    await member.getByRole('button', { name: 'Turn on two-step sign-in' }).click();
    await member.getByText('The code is not correct').waitFor();
    await member.getByLabel('Six-digit code').fill(totp(secret));
    await member.getByRole('button', { name: 'Turn on two-step sign-in' }).click();
    await member.getByRole('heading', { name: 'Your recovery codes' }).waitFor();
    const codes = await member.locator('#recovery-codes code').allInnerTexts();
    assert.equal(codes.length, 10);
    await checkPage(member, 'two-step-recovery-codes');

    // The admin's members list shows it.
    await page.goto(`${url}/orgs/demo/members`);
    const row = page.getByRole('region', { name: 'People' }).getByRole('row').filter({ hasText: EMAIL });
    await row.getByText('Authenticator app').waitFor();

    // Sign in with a code: the step after the enrolment's (a code is accepted once).
    await signOut(member, url);
    await passwordStep(member, url, EMAIL, PASSWORD);
    await checkPage(member, 'second-step');
    await member.getByLabel('Code').fill(totp(secret, Date.now() / 1000 + 30));
    await member.getByRole('button', { name: 'Continue' }).click();
    await member.waitForURL(`${url}/orgs/demo/`);

    // A recovery code works once.
    await signOut(member, url);
    await passwordStep(member, url, EMAIL, PASSWORD);
    await member.getByLabel('Code').fill(codes[0]);
    await member.getByRole('button', { name: 'Continue' }).click();
    await member.waitForURL(`${url}/orgs/demo/`);
    await signOut(member, url);
    await passwordStep(member, url, EMAIL, PASSWORD);
    await member.getByLabel('Code').fill(codes[0]);
    await member.getByRole('button', { name: 'Continue' }).click();
    await member.getByText('That code is not correct, or was used already').waitFor();
    await shot(member, 'second-step-refused');
  } finally {
    await theirs.close();
  }
});

journey(aims, 'an owner requires two-step sign-in of admins; an admin without it is led to enrol', async ({ page, url, users }) => {
  await login(page, url, users.owner.email, users.owner.password);
  await page.goto(`${url}/orgs/demo/settings/security`);
  await page.getByRole('heading', { level: 1, name: 'Security' }).waitFor();
  await checkPage(page, 'settings-security');
  await page.getByLabel('Required of owners and admins').check();
  await page.getByRole('button', { name: 'Save' }).click();
  // The rule applies to the owner too, who has not enrolled either.
  await page.waitForURL(`${url}/orgs/demo/account/two-step?required=1`);

  const { context: theirs, page: admin } = await newPage(aims.browser);
  try {
    await login(admin, url, users.admin.email, users.admin.password);
    await admin.waitForURL(`${url}/orgs/demo/account/two-step?required=1`);
    await admin.getByText('This organisation requires two-step sign-in of owners and admins').waitFor();
    await checkPage(admin, 'two-step-required');
    await admin.goto(`${url}/orgs/demo/risks`);
    await admin.waitForURL(`${url}/orgs/demo/account/two-step?required=1`);
  } finally {
    await theirs.close();
  }
});
