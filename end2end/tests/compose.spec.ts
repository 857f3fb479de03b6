import { expect } from '@playwright/test';
import { test, newAccount, signUp, waitForHydration } from './helpers';

test('the compose box counts as each platform counts, live', async ({ page }) => {
  await signUp(page, newAccount('compose'));
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Compose', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Compose' })).toBeVisible();
  await waitForHydration(page);

  const counter = (platform: string) => page.locator(`.counters [data-platform="${platform}"]`);
  await expect(counter('x')).toHaveText('X: 0 / 280');

  // The same numbers `crier check-text` prints: X weighs the link as 23 and the emoji as 2.
  await page.getByLabel('Text', { exact: true }).fill('Hello 👋 https://example.com/some/long/path');
  await expect(counter('x')).toHaveText('X: 32 / 280');
  await expect(counter('linkedin')).toHaveText('LinkedIn: 42 / 3000');
  await expect(counter('facebook')).toHaveText('Facebook: 42 / 63206');

  await page.getByLabel('Text', { exact: true }).fill('a'.repeat(281));
  await expect(counter('x')).toHaveText('X: 281 / 280 (1 over)');
  await expect(counter('x')).toHaveClass(/over/);
  await expect(counter('linkedin')).not.toHaveClass(/over/);
});
