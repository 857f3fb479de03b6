import { expect } from '@playwright/test';
import { test, connectX, newAccount, open, signUp, waitForHydration } from './helpers';

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

test('after Schedule the form empties, and Undo brings the post back while nothing has been sent', async ({ page }) => {
  await signUp(page, newAccount('undo'));
  await connectX(page, 'undo_x');
  await open(page, 'Compose');
  await waitForHydration(page);
  const text = `Scheduled, then undone ${Date.now()}`;
  await page.getByLabel('Text', { exact: true }).fill(text);
  await page.getByLabel('Link', { exact: true }).fill('https://example.com/undo');
  await page.getByRole('checkbox', { name: /undo_x/ }).check();
  await page.locator('#scheduled_at').fill('2199-06-01T09:00');
  await page.getByRole('button', { name: 'Schedule', exact: true }).click();

  // The post is saved and the form is empty: another click would not post it twice.
  const notice = page.getByRole('status').filter({ hasText: 'Scheduled for' });
  await expect(notice).toBeVisible();
  await expect(page.getByLabel('Text', { exact: true })).toHaveValue('');
  await expect(page.getByLabel('Link', { exact: true })).toHaveValue('');
  await expect(page.getByRole('checkbox', { name: /undo_x/ })).toBeChecked();

  await notice.getByRole('button', { name: 'Undo', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Undone: nothing was sent' })).toBeVisible();
  await expect(page.getByLabel('Text', { exact: true })).toHaveValue(text);
  await expect(page.getByLabel('Link', { exact: true })).toHaveValue('https://example.com/undo');
  await expect(page.locator('#scheduled_at')).toHaveValue('2199-06-01T09:00');
  await expect(page.getByRole('checkbox', { name: /undo_x/ })).toBeChecked();

  // The post was cancelled, not sent.
  await page.getByRole('status').getByRole('link', { name: 'Follow it' }).click();
  await expect(page.locator('.deliveries .chip').filter({ hasText: /undo_x/ })).toContainText('Cancelled');
});

test('what is typed before the wasm arrives stays, and the counters start from it', async ({ page }) => {
  await signUp(page, newAccount('early'));
  await connectX(page, 'early_x');

  // The wasm is held back until the person has typed, as on a slow phone connection.
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  // (The stylesheet, also under /pkg/, comes at once: only the script and the wasm wait.)
  await page.route(/\/pkg\/crier\.(js|wasm)$/, async (route) => {
    await held;
    await route.continue();
  });
  await page.goto('/compose', { waitUntil: 'commit' });
  const text = `Typed early ${Date.now()}`;
  await page.getByLabel('Text', { exact: true }).fill(text);
  await page.getByLabel('Link', { exact: true }).fill('https://example.com/early');
  await page.getByRole('checkbox', { name: /early_x/ }).check();
  await page.locator('#scheduled_at').fill('2199-06-01T09:00');
  await expect(page.locator('body[data-hydrated]')).toHaveCount(0);

  release();
  await waitForHydration(page);
  await expect(page.getByLabel('Text', { exact: true })).toHaveValue(text);
  await expect(page.getByLabel('Link', { exact: true })).toHaveValue('https://example.com/early');
  await expect(page.getByRole('checkbox', { name: /early_x/ })).toBeChecked();
  // The counters measure what was typed: LinkedIn gets the text alone, X the text and the link (23).
  await expect(page.locator('.counters [data-platform="linkedin"]')).toHaveText(`LinkedIn: ${text.length} / 3000`);
  await expect(page.locator('.counters [data-platform="x"]')).toHaveText(`X: ${text.length + 2 + 23} / 280`);
  await expect(page.locator('#scheduled-at-explained')).toContainText('2199-06-01 09:00');
  // So do the previews: the ticked account's card, with the text and the link's card.
  const card = page.locator('#compose-previews .preview');
  await expect(card).toHaveCount(1);
  await expect(card).toContainText(text);
  await expect(card.locator('.link-card')).toContainText('example.com');

  await page.getByRole('button', { name: 'Dry run', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Dry run started' })).toBeVisible();
  await expect(page.getByLabel('Text', { exact: true })).toHaveValue(text);
});

test('the previews show each ticked account as its platform will, as the form changes', async ({ page }) => {
  await signUp(page, newAccount('preview'));
  await connectX(page, 'preview_x');
  await open(page, 'Compose');
  await waitForHydration(page);
  const previews = page.locator('#compose-previews');
  // Before an account is ticked, one card per platform.
  await expect(previews.locator('.preview')).toHaveCount(3);

  await page.getByRole('checkbox', { name: /preview_x/ }).check();
  const card = previews.locator('.preview[data-platform="x"]');
  await expect(previews.locator('.preview')).toHaveCount(1);
  await expect(card.locator('.preview-head')).toContainText('@preview_x');

  await page.getByLabel('Text', { exact: true }).fill('Launch with @ana #crier https://example.com/a/very/long/path/to/the/page');
  await expect(card.locator('.mark.mention')).toHaveText('@ana');
  await expect(card.locator('.mark.hashtag')).toHaveText('#crier');
  // X shows a long link without its scheme, cut.
  await expect(card.locator('.mark.link')).toHaveText('example.com/a/very/long/p…');

  await page.getByRole('button', { name: 'Add reply' }).click();
  await page.getByLabel('Reply 1', { exact: true }).fill('And the second part');
  await expect(card.locator('.preview-reply')).toContainText('And the second part');
  await page.screenshot({ path: test.info().outputPath('compose-previews.png'), fullPage: true });
});

test('a draft is saved without scheduling, reopened from Drafts, and scheduled as that post', async ({ page }) => {
  await signUp(page, newAccount('drafts'));
  await connectX(page, 'drafts_x');
  await open(page, 'Compose');
  await waitForHydration(page);
  const text = `Still writing ${Date.now()}`;
  await page.getByLabel('Text', { exact: true }).fill(text);
  await page.getByRole('checkbox', { name: /drafts_x/ }).check();
  await page.getByRole('button', { name: 'Save draft', exact: true }).click();
  const notice = page.getByRole('status').filter({ hasText: 'Draft saved' });
  await expect(notice).toBeVisible();
  // The form keeps the draft; saving again updates the same one.
  await expect(page.getByLabel('Text', { exact: true })).toHaveValue(text);
  await page.getByLabel('Text', { exact: true }).fill(`${text}, nearly done`);
  await page.getByRole('button', { name: 'Save draft', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Draft saved' })).toBeVisible();

  await notice.getByRole('link', { name: 'Drafts' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Drafts' })).toBeVisible();
  await expect(page.locator('.drafts li')).toHaveCount(1);
  await page.getByRole('link', { name: `${text}, nearly done` }).click();

  // Reopened as saved, then scheduled: the draft becomes the post.
  await waitForHydration(page);
  await expect(page.getByLabel('Text', { exact: true })).toHaveValue(`${text}, nearly done`);
  await expect(page.getByRole('checkbox', { name: /drafts_x/ })).toBeChecked();
  await page.locator('#scheduled_at').fill('2199-06-01T09:00');
  await page.getByRole('button', { name: 'Schedule', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Scheduled for' })).toBeVisible();
  await page.goto('/drafts');
  await expect(page.getByText('No drafts.')).toBeVisible();
});
