import AxeBuilder from '@axe-core/playwright';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from '@playwright/test';
import { test, connectX, newAccount, open, signUp } from './helpers';

/** An RSS feed this test serves itself on loopback (which the e2e server is allowed to fetch). */
interface Item {
  guid: string;
  title: string;
  date: Date;
}

function rss(items: Item[]): string {
  const entries = items
    .map(
      (i) =>
        `<item><title>${i.title}</title><link>https://blog.example.com/${i.guid}</link>` +
        `<guid isPermaLink="false">${i.guid}</guid><pubDate>${i.date.toUTCString()}</pubDate></item>`,
    )
    .join('');
  return `<?xml version="1.0"?><rss version="2.0"><channel><title>E2E Blog</title><link>https://blog.example.com</link>${entries}</channel></rss>`;
}

test('add a feed: a new item becomes a draft when the feed is checked', async ({ page }) => {
  const items: Item[] = [{ guid: 'old', title: 'Written before the feed was added', date: new Date(Date.now() - 86_400_000) }];
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/rss+xml' });
    res.end(rss(items));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // A long address, as real ones are: the page wraps it rather than scroll sideways on a phone.
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/blog/${'category-archive-'.repeat(5)}feed.xml`;
  try {
    await signUp(page, newAccount('feeds'));
    await connectX(page, 'feeds_x');
    await open(page, 'Settings');
    await page.getByRole('link', { name: 'Feeds', exact: true }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Feeds' })).toBeVisible();
    await expect(page.getByText('No feeds yet.')).toBeVisible();

    // A template with a mistake: refused, and what was typed is still there.
    await page.getByLabel('Feed address', { exact: true }).fill(url);
    await page.getByRole('checkbox', { name: /feeds_x/ }).check();
    await page.getByLabel('Template', { exact: true }).fill('{titel} {link}');
    await page.getByRole('button', { name: 'Add feed', exact: true }).click();
    await expect(page.getByText('{titel} is not a placeholder')).toBeVisible();
    await expect(page.getByLabel('Feed address', { exact: true })).toHaveValue(url);
    await expect(page.getByRole('checkbox', { name: /feeds_x/ })).toBeChecked();

    await page.getByLabel('Template', { exact: true }).fill('From the blog: {title} {link}');
    await page.getByLabel('Save as drafts', { exact: true }).check();
    await page.getByRole('button', { name: 'Add feed', exact: true }).click();
    await expect(page.getByText('Feed added')).toBeVisible();
    const feed = page.locator('section[data-feed]');
    await expect(feed).toContainText('Not polled yet');

    // Published after the feed was added: the first check takes it, and leaves the old one alone.
    const title = `Crier reads feeds ${Date.now()}`;
    items.unshift({ guid: 'new', title, date: new Date(Date.now() + 60_000) });
    await feed.getByRole('button', { name: /^Check now: / }).click();
    await expect(page.getByText('Checked: 1 new post(s) made, 0 item(s) skipped.')).toBeVisible();
    await expect(feed).toContainText('E2E Blog');
    await expect(feed).toContainText('First read: 1 item already in the feed left alone; 1 post made.');
    await expect(feed).not.toContainText('Written before the feed was added');
    const row = feed.locator('tr', { hasText: title });

    // The page fits a phone and a laptop, with no axe-core violations.
    for (const width of [375, 1280]) {
      await page.setViewportSize({ width, height: 900 });
      await page.reload();
      await expect(feed).toContainText(title);
      const sideways = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(sideways, `Settings → Feeds scrolls sideways at ${width} px`).toBeLessThanOrEqual(0);
      const { violations } = await new AxeBuilder({ page }).analyze();
      expect(violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
    }

    await row.getByRole('link', { name: 'Draft' }).click();
    await expect(page.getByLabel('Text', { exact: true })).toHaveValue(`From the blog: ${title} https://blog.example.com/new`);
  } finally {
    server.close();
  }
});
