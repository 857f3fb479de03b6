import { expect } from '@playwright/test';
import { test, newAccount, signUp, waitForHydration } from './helpers';

test.use({ timezoneId: 'America/New_York' });

test("sign-up takes the browser's timezone, and Settings changes it", async ({ page }) => {
  await signUp(page, newAccount('zone'));
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings', exact: true }).click();
  await waitForHydration(page);
  const zone = page.getByLabel('Timezone');
  await expect(zone).toHaveValue('America/New_York');

  await zone.selectOption('Europe/Berlin');
  await page.getByRole('button', { name: 'Save timezone' }).click();
  await expect(page.getByText('Times are now shown in Europe/Berlin.')).toBeVisible();
  await page.reload();
  await expect(page.getByLabel('Timezone')).toHaveValue('Europe/Berlin');
});
