import { expect } from '@playwright/test';
import { test, connectX, logIn, newAccount, open, signUp, waitForHydration } from './helpers';

test("the team's retry policy is set in Settings, a post can set its own, and its page says which it follows", async ({ page }) => {
  await signUp(page, newAccount('retries'));
  await connectX(page, 'patient_x');

  await open(page, 'Settings');
  await waitForHydration(page);
  const attempts = page.getByLabel('Attempts', { exact: true });
  const minutes = page.getByLabel('First retry after (minutes)', { exact: true });
  await expect(attempts).toHaveValue('5');
  await expect(minutes).toHaveValue('5');
  await expect(page.getByText('Up to 5 attempts: retries after 5 min, 10 min, 20 min and 40 min.')).toBeVisible();
  // The line under the fields follows what is typed, with the workers' own rule.
  await attempts.fill('30');
  await expect(page.locator('#retry-meaning')).toHaveText('“30” is not a number of attempts from 1 to 20.');
  await attempts.fill('3');
  await minutes.fill('90');
  await expect(page.locator('#retry-meaning')).toHaveText('Up to 3 attempts: retries after 1 h 30 min and 3 h.');
  await minutes.fill('1');
  await page.getByRole('button', { name: 'Save retries' }).click();
  await expect(page.getByRole('status')).toHaveText('Saved. New posts: Up to 3 attempts: retries after 1 min and 2 min.');
  await page.reload();
  await expect(page.getByLabel('Attempts', { exact: true })).toHaveValue('3');

  // A post without its own policy follows the team's.
  await open(page, 'Compose');
  await waitForHydration(page);
  await page.getByLabel('Text', { exact: true }).fill(`Team policy ${Date.now()}`);
  await page.getByRole('checkbox', { name: /patient_x/ }).check();
  await page.getByRole('button', { name: 'Publish now', exact: true }).click();
  await page.getByRole('status').filter({ hasText: 'Publishing now' }).getByRole('link', { name: 'Follow it' }).click();
  await expect(page.locator('[data-retry-policy]')).toHaveText('Retries: Up to 3 attempts: retries after 1 min and 2 min.');

  // One with its own attempts keeps the team's wait.
  await open(page, 'Compose');
  await waitForHydration(page);
  await page.getByLabel('Text', { exact: true }).fill(`Own policy ${Date.now()}`);
  await page.getByRole('checkbox', { name: /patient_x/ }).check();
  await page.getByText('Retries', { exact: true }).click();
  await expect(page.getByText("Empty fields follow the team's policy (Up to 3 attempts: retries after 1 min and 2 min.)")).toBeVisible();
  await page.getByLabel('Attempts', { exact: true }).fill('2');
  await expect(page.locator('#retry-meaning')).toHaveText('Up to 2 attempts: retries after 1 min.');
  await page.getByRole('button', { name: 'Publish now', exact: true }).click();
  await page.getByRole('status').filter({ hasText: 'Publishing now' }).getByRole('link', { name: 'Follow it' }).click();
  await expect(page.locator('[data-retry-policy]')).toHaveText('Retries: Up to 2 attempts: retries after 1 min.');
});

test('without JavaScript, a refused post comes back with its text, link, accounts and retries as typed', async ({ page, browser, baseURL }) => {
  const owner = newAccount('nojs-compose');
  await signUp(page, owner);
  await connectX(page, 'plain_x');

  const context = await browser.newContext({ javaScriptEnabled: false, baseURL });
  try {
    const plain = await context.newPage();
    await logIn(plain, owner.email, owner.password, '/', { hydrated: false });
    await plain.goto('/compose');
    const tooLong = `Too long for X ${'a'.repeat(300)}`;
    await plain.getByLabel('Text', { exact: true }).fill(tooLong);
    await plain.getByLabel('Link', { exact: true }).fill('https://example.com/launch');
    await plain.getByRole('checkbox', { name: /plain_x/ }).check();
    await plain.getByText('Retries', { exact: true }).click();
    await plain.getByLabel('Attempts', { exact: true }).fill('4');
    await plain.getByRole('button', { name: 'Publish now', exact: true }).click();

    await expect(plain.getByRole('alert').filter({ hasText: 'X allows 280' }).first()).toBeVisible();
    await expect(plain.getByLabel('Text', { exact: true })).toHaveValue(tooLong);
    await expect(plain.getByLabel('Link', { exact: true })).toHaveValue('https://example.com/launch');
    await expect(plain.getByRole('checkbox', { name: /plain_x/ })).toBeChecked();
    await expect(plain.getByLabel('Attempts', { exact: true })).toHaveValue('4');
  } finally {
    await context.close();
  }
});
