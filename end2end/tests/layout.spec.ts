import AxeBuilder from '@axe-core/playwright';
import { expect, Page } from '@playwright/test';
import { test, compose, connectX, newAccount, signUp } from './helpers';

/** Every signed-in page that needs no id. */
const PAGES = [
  '/', '/?view=week', '/?view=month', '/compose', '/compose/batch', '/compose/import', '/drafts', '/review', '/notifications', '/media', '/accounts', '/analytics', '/audit', '/status',
  '/settings', '/settings/members', '/settings/security', '/settings/api', '/settings/webhooks', '/settings/review-links', '/settings/notifications',
];

/** How far the page scrolls sideways (0 when it fits). */
const sideways = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

/** axe-core's findings on the page as it is now: none expected. */
async function accessible(page: Page, what: string) {
  const { violations } = await new AxeBuilder({ page }).analyze();
  const found = violations.map((v) => `${v.id} (${v.help}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  expect(found, `axe-core on ${what}`).toEqual([]);
}

/** Whether the header's visible parts sit on one row (every part overlaps every other vertically). */
const headerOnOneRow = (page: Page) =>
  page.evaluate(() => {
    const parts = [...document.querySelectorAll('.app-header > *')]
      .map((e) => e.getBoundingClientRect())
      .filter((r) => r.width > 0 && r.height > 0);
    return Math.max(...parts.map((r) => r.top)) < Math.min(...parts.map((r) => r.bottom));
  });

test('every page fits a phone (375 px) and a laptop (1280 px), the header on one row on the laptop, with no axe-core violations in light or dark mode', async ({ page }) => {
  // About fifty pages, each loaded and checked by axe-core.
  test.setTimeout(240_000);
  await signUp(page, newAccount('layout'));
  await connectX(page, 'layout_x');
  const long = `A first line far too long for a calendar day ${'and then some more words '.repeat(6)}`;
  await compose(page, long, [/layout_x/], 'Publish now');
  const postPage = new URL(page.url()).pathname;
  await page.goto('/accounts');
  const queuePage = (await page.getByRole('link', { name: 'Queue and posting schedule of layout_x' }).getAttribute('href')) ?? '';

  for (const width of [375, 1280]) {
    await page.setViewportSize({ width, height: 900 });
    for (const path of [...PAGES, postPage, queuePage]) {
      await page.goto(path);
      await expect(page.locator('h1')).toBeVisible();
      expect(await sideways(page), `${path} scrolls sideways at ${width} px`).toBeLessThanOrEqual(0);
      if (width === 1280) expect(await headerOnOneRow(page), `the header of ${path} wraps at 1280 px`).toBe(true);
      await accessible(page, `${path} at ${width} px`);
      // For a reviewer's eyes: the calendar, Compose and Accounts at both widths (test-results/, not committed).
      const shot = { '/?view=month': 'calendar', '/?view=week': 'week', '/compose': 'compose', '/accounts': 'accounts' }[path];
      if (shot) await page.screenshot({ path: test.info().outputPath(`${shot}-${width}.png`), fullPage: true });
    }
  }

  // Dark mode: the same checks, and a look for a reviewer's eyes.
  await page.emulateMedia({ colorScheme: 'dark' });
  for (const path of [...PAGES, postPage, queuePage]) {
    await page.goto(path);
    await expect(page.locator('h1')).toBeVisible();
    await accessible(page, `${path} in dark mode`);
    if (['/?view=month', '/compose', '/accounts'].includes(path)) {
      await page.screenshot({ path: test.info().outputPath(`dark-${path.replace(/\W+/g, '') || 'home'}.png`), fullPage: true });
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });

  // The month: each post is one item that stays inside its day.
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto('/?view=month');
  const item = page.locator('.calendar .entry').first();
  await expect(item).toContainText(long.slice(0, 20));
  const [entry, day] = await Promise.all([item.boundingBox(), page.locator('.calendar .day.today').boundingBox()]);
  expect(entry!.x + entry!.width, 'the item stays inside its day').toBeLessThanOrEqual(day!.x + day!.width + 0.5);
  await expect(item.locator('img.platform-icon')).toHaveAttribute('alt', /X · layout_x.*: /);
  expect(await item.locator('img.platform-icon').evaluate((img: HTMLImageElement) => img.naturalWidth), 'the icon is served by Crier').toBeGreaterThan(0);

  // On a phone the month is an agenda (days with posts, and today), and the menu folds.
  await page.setViewportSize({ width: 375, height: 800 });
  await page.goto('/?view=month');
  await expect(page.locator('.calendar .day.empty:not(.today)').first()).toBeHidden();
  await expect(page.locator('.calendar .entry').first()).toBeVisible();
  const nav = page.getByRole('navigation', { name: 'Main' });
  await expect(nav).toBeHidden();
  await page.getByText('Menu', { exact: true }).click();
  await expect(nav).toBeVisible();
  await nav.getByRole('link', { name: 'Accounts', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Accounts' })).toBeVisible();
  // A table becomes one card a row, each cell under its heading's name.
  const row = page.locator('table.accounts tbody tr').first();
  await expect(row.locator('td[data-label="Platform"]')).toContainText('X');
  expect(await sideways(page)).toBeLessThanOrEqual(0);
});
