import { expect, type Page } from '@playwright/test';
import { test, newAccount, open, signUp, waitForHydration } from './helpers';

/** Opens the Accounts page from the navigation and waits for it to be interactive. */
async function openAccounts(page: Page) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Accounts', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Accounts' })).toBeVisible();
}

/** Clicks "Connect <platform>" and answers the sandbox's consent page. */
async function consent(page: Page, platform: string, account: string, extra: Record<string, string>, decision: 'Authorize' | 'Cancel') {
  await page.getByRole('link', { name: `Connect ${platform}`, exact: true }).click();
  await expect(page.getByText('Crier (sandbox)').first()).toBeVisible();
  await page.getByLabel('Account', { exact: true }).fill(account);
  for (const [label, value] of Object.entries(extra)) {
    await page.getByLabel(label, { exact: true }).fill(value);
  }
  await page.getByRole('button', { name: decision, exact: true }).click();
}

function row(page: Page, name: string) {
  return page.getByRole('row').filter({ hasText: name });
}

test('connect sandbox X, LinkedIn and a Facebook Page, verify them and disconnect', async ({ page }) => {
  await signUp(page, newAccount('connect'));
  await openAccounts(page);
  await expect(page.locator('.sandbox-badge').first()).toHaveText('Sandbox');

  // X: straight back to the Accounts page.
  await consent(page, 'X', 'acme_rockets', {}, 'Authorize');
  await expect(page).toHaveURL(/\/accounts$/);
  await expect(page.getByText('Connected X account acme_rockets.')).toBeVisible();
  await expect(row(page, 'acme_rockets')).toContainText('Connected');

  // LinkedIn: the member chooses their profile and an organization they administer.
  await consent(page, 'LinkedIn', 'ada-lovelace', { 'New organization': 'Acme Rockets Inc' }, 'Authorize');
  await expect(page.getByRole('heading', { level: 1, name: 'Connect LinkedIn' })).toBeVisible();
  await waitForHydration(page);
  await page.getByLabel('Acme Rockets Inc (organization)').check();
  await page.getByRole('button', { name: 'Connect selected' }).click();
  await expect(page).toHaveURL(/\/accounts$/);
  await expect(row(page, 'Acme Rockets Inc')).toContainText('LinkedIn');
  await expect(row(page, 'Ada Lovelace')).toContainText('LinkedIn');

  // Facebook: each chosen Page becomes an account.
  await consent(page, 'Facebook', 'Ada Facebook', { 'New Page': 'Acme Page' }, 'Authorize');
  await expect(page.getByRole('heading', { level: 1, name: 'Connect Facebook' })).toBeVisible();
  await waitForHydration(page);
  await page.getByLabel('Acme Page (Page)').check();
  await page.getByRole('button', { name: 'Connect selected' }).click();
  await expect(page).toHaveURL(/\/accounts$/);
  await expect(row(page, 'Acme Page')).toContainText('Facebook');

  await waitForHydration(page);
  for (const name of ['acme_rockets', 'Acme Rockets Inc', 'Acme Page']) {
    await page.getByRole('button', { name: `Verify ${name}`, exact: true }).click();
    await expect(page.getByText(`Verified ${name}: connected.`)).toBeVisible();
  }

  await page.getByRole('button', { name: 'Disconnect acme_rockets', exact: true }).click();
  await expect(page.getByText('Disconnected X account acme_rockets. Its history is kept.')).toBeVisible();
  await expect(row(page, 'acme_rockets')).toHaveCount(0);
  await expect(row(page, 'Acme Page')).toHaveCount(1);
});

test('Cancel on the consent page says nothing was connected', async ({ page }) => {
  await signUp(page, newAccount('cancel'));
  await openAccounts(page);
  await consent(page, 'LinkedIn', 'someone', {}, 'Cancel');
  await expect(page).toHaveURL(/\/accounts$/);
  await expect(page.getByRole('alert')).toContainText("You cancelled on LinkedIn's consent page. Nothing was connected.");
  await expect(page.getByText('No accounts yet.')).toBeVisible();
});

test('profile pictures are served from Crier, not hot-linked from the platforms', async ({ page }) => {
  await signUp(page, newAccount('pictures'));
  await openAccounts(page);
  await consent(page, 'X', 'picture_person', {}, 'Authorize');
  await expect(row(page, 'picture_person')).toContainText('Connected');
  await consent(page, 'Facebook', 'Pic Facebook', { 'New Page': 'Picture Page' }, 'Authorize');
  await waitForHydration(page);
  await page.getByLabel('Picture Page (Page)').check();
  await page.getByRole('button', { name: 'Connect selected' }).click();
  await expect(row(page, 'Picture Page')).toContainText('Facebook');

  for (const name of ['picture_person', 'Picture Page']) {
    const picture = row(page, name).locator('img.avatar');
    await expect(picture).toHaveCount(1);
    // Crier's own copy, versioned: never the platform's (here the sandbox's) address.
    await expect(picture).toHaveAttribute('src', /^\/accounts\/[0-9a-f-]{36}\/picture\?v=[0-9a-f]{16}$/);
    await expect(picture).toHaveAttribute('alt', '');
    // And the browser really loaded it as an image.
    await expect.poll(() => picture.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBeGreaterThan(0);
  }
  // No page element points at the platforms' image hosts.
  await expect(page.locator('img[src*="/sandbox/"]')).toHaveCount(0);

  // Compose's account picker shows the same pictures.
  await open(page, 'Compose');
  // One picture an account (the chooser may have connected the sandbox's own Page as well).
  const choice = page.locator('.accounts-choice img.avatar');
  await expect(choice.first()).toBeVisible();
  await expect(choice).toHaveCount(await page.locator('.accounts-choice input[type="checkbox"]').count());
  for (const picture of await choice.all()) {
    await expect(picture).toHaveAttribute('src', /^\/accounts\//);
    await expect.poll(() => picture.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBeGreaterThan(0);
  }
});
