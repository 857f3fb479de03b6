import { expect, type Page } from '@playwright/test';
import { test, connectX, logIn, newAccount, open, signUp, waitForHydration } from './helpers';

// Sign-up takes the browser's timezone: the Status page's times are in it.
test.use({ timezoneId: 'Asia/Tokyo' });

/** The Status page's line of the account whose name matches `name`. */
const accountRow = (page: Page, name: RegExp) => page.locator('table.budgets tbody tr').filter({ hasText: name });

test('the Status page shows the worker, the queue, and each account with its last verification and budget', async ({ page }) => {
  await signUp(page, newAccount('status'));
  await connectX(page, 'status_x');

  await open(page, 'Status');
  await expect(page.getByText(/\d+ workers? (is|are) publishing\./)).toBeVisible();
  await expect(page.locator('table.workers tbody tr').first()).toContainText('Alive');
  let row = accountRow(page, /status_x/);
  await expect(row).toContainText('X');
  await expect(row).toContainText('Connected');
  await expect(row).toContainText('300 per 15 min');
  await expect(row.locator('td').nth(3)).toHaveText('—'); // never verified yet
  await expect(row.locator('td').nth(6)).toHaveText('0'); // nothing used this window
  await expect(page.getByText('Times are in Asia/Tokyo.')).toBeVisible();

  // Verify it, and publish once: the page shows when, and the budget spent.
  await open(page, 'Accounts');
  await waitForHydration(page);
  await page.getByRole('button', { name: 'Verify status_x', exact: true }).click();
  await expect(page.getByText('Verified status_x: connected.')).toBeVisible();
  await open(page, 'Compose');
  await waitForHydration(page);
  await page.getByLabel('Text', { exact: true }).fill(`Status check ${Date.now()}`);
  await page.getByRole('checkbox', { name: /status_x/ }).check();
  await page.getByRole('button', { name: 'Publish now', exact: true }).click();
  await page.getByRole('status').filter({ hasText: 'Publishing now' }).getByRole('link', { name: 'Follow it' }).click();
  await expect(page.locator('.deliveries .chip')).toContainText('Published');

  await open(page, 'Status');
  row = accountRow(page, /status_x/);
  await expect(row.locator('td').nth(3)).toHaveText(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2} JST$/);
  await expect(row.locator('td').nth(4)).toHaveText(/JST$/); // last used
  await expect(row.locator('td').nth(6)).toHaveText('1');
  await expect(row.locator('td').nth(7)).toHaveText(/JST$/); // the window's reset
  await expect(page.locator('[data-queue="due"]')).toHaveText('0');
  await expect(page.locator('[data-queue="publishing"]')).toHaveText('0');
});

test('the Status page is complete without JavaScript', async ({ page, browser, baseURL }) => {
  const owner = newAccount('status-nojs');
  await signUp(page, owner);
  await connectX(page, 'plain_status_x');

  const context = await browser.newContext({ javaScriptEnabled: false, baseURL, timezoneId: 'Asia/Tokyo' });
  try {
    const plain = await context.newPage();
    await logIn(plain, owner.email, owner.password, '/', { hydrated: false });
    await plain.goto('/status');
    await expect(plain.getByRole('heading', { level: 1, name: 'Status' })).toBeVisible();
    await expect(accountRow(plain, /plain_status_x/)).toContainText('300 per 15 min');
    await expect(plain.getByRole('heading', { level: 2, name: 'Publishing workers' })).toBeVisible();
    await expect(plain.locator('[data-queue="held"]')).toHaveText('0');
    await expect(plain.locator('body[data-hydrated]')).toHaveCount(0);
  } finally {
    await context.close();
  }
});
