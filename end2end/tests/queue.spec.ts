import { expect } from '@playwright/test';
import { test, connectX, newAccount, open, signUp, waitForHydration } from './helpers';

test('an account gets a posting schedule, three posts go into its queue and are reordered', async ({ page }) => {
  await signUp(page, newAccount('queue'));
  await connectX(page, 'queue_x');
  await page.getByRole('link', { name: 'Queue and posting schedule of queue_x' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Queue: queue_x' })).toBeVisible();
  await page.getByLabel('Timezone', { exact: true }).selectOption('UTC');
  for (const day of ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday']) {
    await page.getByLabel(day, { exact: true }).fill('00:00, 06:00, 12:00, 18:00');
  }
  await page.getByRole('button', { name: 'Save schedule', exact: true }).click();
  await expect(page.getByText('Saved: 28 times a week.')).toBeVisible();
  const queuePage = page.url();

  const texts = ['Queued one', 'Queued two', 'Queued three'].map((t) => `${t} ${Date.now()}`);
  for (const text of texts) {
    await open(page, 'Compose');
    await waitForHydration(page);
    await page.getByLabel('Text', { exact: true }).fill(text);
    await page.getByRole('checkbox', { name: /queue_x/ }).check();
    await page.getByRole('button', { name: 'Add to queue', exact: true }).click();
    await expect(page.getByRole('status').filter({ hasText: 'Added to the queue: queue_x at' })).toBeVisible();
  }

  await page.goto(queuePage);
  const items = page.locator('.queue-item');
  await expect(items).toHaveCount(3);
  await expect(items.nth(0)).toContainText(texts[0]);
  await expect(items.nth(2)).toContainText(texts[2]);
  const firstSlot = await items.nth(0).locator('strong').textContent();
  // The third moves up: it takes the second's time, and the second the third's.
  await items.nth(2).getByRole('button', { name: /^Up:/ }).click();
  await expect(items.nth(1)).toContainText(texts[2]);
  await expect(items.nth(2)).toContainText(texts[1]);
  await items.nth(2).getByRole('button', { name: /^Top:/ }).click();
  await expect(items.nth(0)).toContainText(texts[1]);
  await expect(items.nth(0).locator('strong')).toHaveText(firstSlot ?? '');
  // Paused, then resumed.
  await page.getByRole('button', { name: 'Pause queue', exact: true }).click();
  await expect(page.getByText('Paused: its posts wait until you resume it.')).toBeVisible();
  await page.getByRole('button', { name: 'Resume queue', exact: true }).click();
  await expect(page.getByText('Resumed: its posts took the next free times.')).toBeVisible();
  await expect(items).toHaveCount(3);
});
