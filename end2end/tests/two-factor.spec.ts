import crypto from 'node:crypto';
import { expect, type Page } from '@playwright/test';
import { test, expectDashboard, logIn, logOut, newAccount, pathIs, signUp, submitLogin, type Account, type StepOptions } from './helpers';

/** RFC 4648 base32 (no padding, spaces ignored) to bytes. */
function base32Decode(text: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of text.replace(/[\s=]/g, '').toUpperCase()) {
    const value = alphabet.indexOf(c);
    if (value < 0) throw new Error(`not base32: ${c}`);
    bits += value.toString(2).padStart(5, '0');
  }
  const bytes: number[] = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

/** The 6-digit TOTP code (RFC 6238: HMAC-SHA-1, 30-second steps) of `key` at `unixSeconds`. */
function totp(key: string, unixSeconds: number): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSeconds / 30)));
  const mac = crypto.createHmac('sha1', base32Decode(key)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 1_000_000).padStart(6, '0');
}

const now = () => Math.floor(Date.now() / 1000);

/**
 * Turns two-factor on from Settings → Security for the signed-in person. Answers the key and the
 * recovery codes. The current step's code is used up by this, so later sign-ins use the next
 * step's code (accepted one step early, for clock skew).
 */
async function turnOnTwoFactor(page: Page): Promise<{ key: string; codes: string[] }> {
  await page.goto('/settings');
  await page.getByRole('link', { name: 'Security', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Security', exact: true })).toBeVisible();
  await page.getByRole('link', { name: 'Set up two-factor sign-in' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Set up two-factor sign-in' })).toBeVisible();
  await expect(page.getByRole('img', { name: /QR code that adds/ })).toBeVisible();
  const key = ((await page.locator('[data-secret-key]').textContent()) ?? '').replace(/\s/g, '');
  expect(key).toMatch(/^[A-Z2-7]{32}$/);
  await page.getByLabel('Code from the app', { exact: true }).fill(totp(key, now()));
  await page.getByRole('button', { name: 'Turn on two-factor' }).click();
  await expect(page.getByRole('heading', { name: 'Save your recovery codes' })).toBeVisible();
  const codes = await page.locator('.recovery-codes .codes code').allTextContents();
  expect(codes).toHaveLength(10);
  return { key, codes };
}

/** Email and password, then the second step's page. */
async function passwordStep(page: Page, account: Account, opts: StepOptions = {}) {
  await page.goto('/login');
  await submitLogin(page, account.email, account.password, opts);
  await expect(page).toHaveURL(pathIs('/login/two-factor'));
  await expect(page.getByRole('heading', { level: 1, name: 'Two-factor sign-in' })).toBeVisible();
}

test('turn on two-factor, sign out, sign in with the password and a code', async ({ page }) => {
  const account = newAccount('totp');
  await signUp(page, account);
  const { key } = await turnOnTwoFactor(page);
  await page.goto('/settings/security');
  await expect(page.locator('[data-two-factor="on"]')).toContainText('10 recovery codes left');
  await logOut(page);

  await passwordStep(page, account);
  // Nothing else opens before the code.
  await page.goto('/compose');
  await expect(page).toHaveURL(pathIs('/login/two-factor'));
  await page.getByLabel('Code', { exact: true }).fill(totp(key, now() + 30));
  await page.getByRole('button', { name: 'Verify' }).click();
  await expectDashboard(page, account.team, account.email);
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('a recovery code signs in once and is refused the second time', async ({ page }) => {
    const account = newAccount('recovery');
    await signUp(page, account, { hydrated: false });
    const { codes } = await turnOnTwoFactor(page);
    await page.getByRole('link', { name: 'I have saved them: go to the dashboard' }).click();
    await logOut(page);

    await passwordStep(page, account, { hydrated: false });
    await page.getByLabel('Code', { exact: true }).fill(codes[0]);
    await page.getByRole('button', { name: 'Verify' }).click();
    await expectDashboard(page, account.team, account.email);
    await logOut(page);

    await passwordStep(page, account, { hydrated: false });
    await page.getByLabel('Code', { exact: true }).fill(codes[0]);
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect(page).toHaveURL(pathIs('/login/two-factor'));
    await expect(page.getByText('That code is not right, or was already used.')).toBeVisible();
    await expect(page.getByLabel('Code', { exact: true })).toHaveAttribute('aria-invalid', 'true');
  });
});

test('sign out another session from Settings → Security', async ({ page, browser }) => {
  const account = newAccount('sessions');
  await signUp(page, account);

  const laptop = await browser.newContext();
  const other = await laptop.newPage();
  await logIn(other, account.email, account.password);
  await expectDashboard(other, account.team, account.email);

  await page.goto('/settings/security');
  const rows = page.locator('table.sessions tbody tr');
  await expect(rows).toHaveCount(2);
  await expect(rows.filter({ hasText: 'This session' })).toHaveCount(1);
  await expect(rows.first()).toContainText('Chrome on Linux');
  await page.getByRole('button', { name: /^Sign out the session of/ }).click();
  await expect(page.getByText('That session is signed out.')).toBeVisible();
  await expect(rows).toHaveCount(1);

  await other.goto('/');
  await expect(other).toHaveURL(pathIs('/login'));
  await laptop.close();
});
