import { expect, type Page } from '@playwright/test';
import { test, connectX, logIn, newAccount, open, signUp, waitForHydration } from './helpers';

/**
 * 55 posts from May 2030 on: twelve on the 10th (more than a month's day shows), the rest one a
 * day at 12:00 from May 1st, skipping the 10th. More than one page of the list (50).
 */
function mayPosts(): string {
  const lines: string[] = [];
  for (let i = 0; i < 12; i++) lines.push(`2030-05-10 ${String(8 + i).padStart(2, '0')}:00 | Busy day ${i}`);
  for (let day = new Date(Date.UTC(2030, 4, 1)); lines.length < 55; day.setUTCDate(day.getUTCDate() + 1)) {
    const date = day.toISOString().slice(0, 10);
    if (date !== '2030-05-10') lines.push(`${date} 12:00 | Daily ${date}`);
  }
  return lines.join('\n');
}

async function scheduleMay(page: Page, account: string) {
  await open(page, 'Compose');
  await page.getByRole('link', { name: 'Schedule several posts at once' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Schedule batch' })).toBeVisible();
  await waitForHydration(page);
  await page.getByRole('checkbox', { name: new RegExp(account) }).check();
  await page.getByLabel(/Posts, one per line/).fill(mayPosts());
  await page.getByRole('button', { name: 'Schedule batch' }).click();
  await expect(page.getByRole('status')).toContainText('Scheduled 55 posts to 1 account.');
}

/** The pages the list and the calendar link to, followed the same way with and without wasm. */
async function walkThePages(page: Page) {
  const posts = page.locator('.post-line');
  const pager = page.getByRole('navigation', { name: 'Pages of posts' });
  await expect(posts).toHaveCount(50);
  await expect(pager.getByRole('link', { name: '← Newer' })).toHaveCount(0);
  await pager.getByRole('link', { name: 'Older →' }).click();
  await expect(page).toHaveURL(/\/\?after=/);
  await expect(posts).toHaveCount(5);
  await expect(pager.getByRole('link', { name: 'Older →' })).toHaveCount(0);
  // The oldest posts are the first days of May.
  await expect(posts.filter({ hasText: 'Daily 2030-05-01' })).toHaveCount(1);
  await pager.getByRole('link', { name: '← Newer' }).click();
  await expect(posts).toHaveCount(50);

  await page.goto('/?view=month&at=2030-05-01');
  await expect(page.getByText('May 2030', { exact: true })).toBeVisible();
  const busy = page.locator('.calendar [data-date="2030-05-10"]');
  await expect(busy.locator('li')).toHaveCount(3);
  await expect(busy.locator('li').first()).toContainText('08:00 Busy day 0');
  // Keyboard: the link is reachable and opens with Enter.
  await busy.getByRole('link', { name: '+9 more' }).press('Enter');
  await expect(page).toHaveURL(/\/\?day=2030-05-10$/);
  await expect(page.getByText('Due on Fri 10 May 2030')).toBeVisible();
  await expect(posts).toHaveCount(12);
  await page.getByRole('link', { name: 'All days' }).click();
  await expect(posts).toHaveCount(50);
}

test('the dashboard pages its list and a busy calendar day links to the rest, with and without wasm', async ({ page, browser, baseURL }) => {
  const owner = newAccount('paging');
  await signUp(page, owner);
  await connectX(page, 'paging_x');
  await scheduleMay(page, 'paging_x');

  await open(page, 'Dashboard');
  await waitForHydration(page);
  await walkThePages(page);

  const context = await browser.newContext({ javaScriptEnabled: false, baseURL });
  try {
    const plain = await context.newPage();
    await logIn(plain, owner.email, owner.password, '/', { hydrated: false });
    await walkThePages(plain);
    await expect(plain.locator('body[data-hydrated]')).toHaveCount(0);
  } finally {
    await context.close();
  }
});

test('a post dragged to another day of the calendar moves there and keeps its time, or to an hour of the week, or moved from the keyboard', async ({ page }) => {
  await signUp(page, newAccount('drag'));
  await connectX(page, 'drag_x');
  await open(page, 'Compose');
  await waitForHydration(page);
  await page.getByLabel('Text', { exact: true }).fill(`Dragged ${Date.now()}`);
  await page.getByRole('checkbox', { name: /drag_x/ }).check();
  await page.locator('#scheduled_at').fill('2199-06-10T09:30');
  await page.getByRole('button', { name: 'Schedule', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Scheduled for' })).toBeVisible();

  await page.goto('/?view=month&at=2199-06-01');
  const on = (date: string) => page.locator(`.calendar [data-date="${date}"] .entry`);
  await expect(on('2199-06-10')).toHaveCount(1);
  await on('2199-06-10').dragTo(page.locator('.calendar [data-date="2199-06-12"]'));
  await expect(page.locator('#calendar-status')).toContainText('Moved to 2199-06-12 09:30');
  await expect(on('2199-06-12')).toContainText('09:30');
  await expect(on('2199-06-10')).toHaveCount(0);

  // In the week's time grid, an hour: that hour, the minutes kept. (A window tall enough for the
  // whole day: a drag does not scroll.)
  await page.setViewportSize({ width: 1280, height: 1400 });
  await page.goto('/?view=week&at=2199-06-12');
  await on('2199-06-12').dragTo(page.locator('.calendar [data-date="2199-06-13"] .slot[data-hour="15"]'));
  await expect(page.locator('#calendar-status')).toContainText('Moved to 2199-06-13 15:30');
  await expect(page.locator('.calendar [data-date="2199-06-13"] .slot[data-hour="15"] .entry')).toContainText('15:30');

  // From the keyboard: Alt+↓ on the post is an hour later in the week, Alt+← a day earlier; the
  // focus comes back to the post after each move.
  const moved = page.locator('.calendar .entry a').first();
  await moved.focus();
  await page.keyboard.press('Alt+ArrowDown');
  await expect(page.locator('#calendar-status')).toContainText('Moved to 2199-06-13 16:30');
  await expect(page.locator('.calendar [data-date="2199-06-13"] .slot[data-hour="16"] .entry a')).toBeFocused();
  await page.keyboard.press('Alt+ArrowLeft');
  await expect(page.locator('#calendar-status')).toContainText('Moved to 2199-06-12 16:30');
  await expect(page.locator('.calendar [data-date="2199-06-12"] .entry a')).toBeFocused();

  // A click on an empty hour of the week opens Compose then.
  await page.locator('.calendar [data-date="2199-06-14"] .slot[data-hour="11"]').click();
  await expect(page.locator('#scheduled_at')).toHaveValue('2199-06-14T11:00');

  // A day's "+" opens Compose on that day.
  await page.goto('/?view=month&at=2199-06-01');
  await page.getByRole('link', { name: 'New post on Thu 20' }).click();
  await expect(page.locator('#scheduled_at')).toHaveValue('2199-06-20T09:00');
});
