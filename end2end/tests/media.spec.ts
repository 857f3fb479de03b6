import { deflateSync } from 'node:zlib';
import { expect, type Page } from '@playwright/test';
import { test, chip, connectX, consent, logIn, newAccount, open, signUp, waitForHydration } from './helpers';

/** A CRC-32 table for PNG chunks. */
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/**
 * A real PNG file made here (no binary fixtures in the repository): `width` × `height`, a
 * diagonal gradient tinted by `tint`, so every file's bytes differ.
 */
function png(name: string, width: number, height: number, tint: number) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // RGB
  const rows: Buffer[] = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x++) {
      row[1 + x * 3] = (x * 255) / width;
      row[2 + x * 3] = (y * 255) / height;
      row[3 + x * 3] = tint;
    }
    rows.push(row);
  }
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const buffer = Buffer.concat([
    signature,
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
  return { name, mimeType: 'image/png', buffer };
}

/** Connects X, a LinkedIn member and a Facebook Page through the sandbox. */
async function connectAll(page: Page, prefix: string) {
  await connectX(page, `${prefix}_x`);
  await consent(page, 'LinkedIn', `${prefix}-li`);
  await expect(page.getByRole('heading', { level: 1, name: 'Connect LinkedIn' })).toBeVisible();
  await waitForHydration(page);
  await page.getByRole('button', { name: 'Connect selected' }).click();
  await expect(page).toHaveURL(/\/accounts$/);
  await consent(page, 'Facebook', `${prefix} Facebook`, { 'New Page': `${prefix} Page` });
  await expect(page.getByRole('heading', { level: 1, name: 'Connect Facebook' })).toBeVisible();
  await waitForHydration(page);
  await page.getByLabel(`${prefix} Page (Page)`).check();
  await page.getByRole('button', { name: 'Connect selected' }).click();
  await expect(page).toHaveURL(/\/accounts$/);
}

test('two images chosen with their alt text are previewed, published to three platforms and shown on the post', async ({ page }) => {
  await signUp(page, newAccount('media'));
  await connectAll(page, 'pics');

  await open(page, 'Compose');
  await waitForHydration(page);
  const text = `Two pictures ${Date.now()}`;
  await page.getByLabel('Text', { exact: true }).fill(text);
  await page.getByLabel('Add files').setInputFiles([png('chart.png', 120, 80, 30), png('team.png', 90, 90, 200)]);

  const attached = page.locator('.attached-item');
  await expect(attached).toHaveCount(2);
  await expect(attached.locator('img.thumb')).toHaveCount(2);
  // Uploads add in the order chosen; each gets its own alt text, counted against the limits.
  await expect(attached.nth(0)).toContainText('chart.png');
  await page.getByLabel('Alt text for image 1').fill('A chart of sales, up 20%');
  await page.getByLabel('Alt text for image 2').fill('The team on the stairs');
  await expect(attached.nth(0).locator('.counter')).toContainText('24 / 1000 on X');
  // Reordered with the keyboard-reachable buttons, and back.
  await page.getByRole('button', { name: 'Move image 2 up' }).click();
  await expect(attached.nth(0)).toContainText('team.png');
  await page.getByRole('button', { name: 'Move image 1 down' }).click();
  await expect(attached.nth(0)).toContainText('chart.png');

  // Each platform's verdict, and its layout in the previews.
  const verdicts = page.locator('.media-verdicts');
  await expect(verdicts.locator('[data-platform="x"]')).toContainText('2 pictures in a grid');
  await expect(verdicts.locator('.verdict.refused')).toHaveCount(0);
  await page.getByText('Previews', { exact: true }).click();
  await expect(page.locator('.preview[data-platform="x"] .preview-media img')).toHaveCount(2);
  await expect(page.locator('.preview-media')).toHaveCount(3);

  for (const account of [/pics_x/, /Pics Li/, /pics Page/]) {
    await page.getByRole('checkbox', { name: account }).check();
  }
  await page.getByRole('button', { name: 'Publish now', exact: true }).click();
  const notice = page.getByRole('status').filter({ hasText: 'Publishing now' });
  await expect(notice).toBeVisible();
  await notice.getByRole('link', { name: 'Follow it' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Post' })).toBeVisible();
  for (const account of [/pics_x/, /Pics Li/, /pics Page/]) {
    await expect(chip(page, account)).toContainText('Published', { timeout: 20_000 });
  }
  // Each delivery lists the media it sent, with the platform's ids.
  await expect(page.locator('.deliveries .sent-media')).toHaveCount(3);
  for (const list of await page.locator('.deliveries .sent-media').all()) {
    await expect(list.locator('li')).toHaveCount(2);
    await expect(list.locator('li code').first()).not.toBeEmpty();
  }
  const thumbs = page.locator('.post-media img.thumb');
  await expect(thumbs).toHaveCount(2);
  await expect(thumbs.nth(0)).toHaveAttribute('alt', 'A chart of sales, up 20%');
  await expect(thumbs.nth(1)).toHaveAttribute('alt', 'The team on the stairs');
  await expect(thumbs.nth(0)).toHaveJSProperty('complete', true);
  expect(await thumbs.nth(0).evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0);

  // The dashboard shows them beside the post.
  await open(page, 'Dashboard');
  await expect(page.locator('.post-line').filter({ hasText: text }).locator('img.thumb')).toHaveCount(2);
});

test('without JavaScript, Compose uploads with its Upload button and keeps what was typed', async ({ page, browser, baseURL }) => {
  const owner = newAccount('plainmedia');
  await signUp(page, owner);
  await connectX(page, 'plain_media_x');

  const context = await browser.newContext({ javaScriptEnabled: false, baseURL });
  try {
    const plain = await context.newPage();
    await logIn(plain, owner.email, owner.password, '/', { hydrated: false });
    await plain.goto('/compose');
    const text = `Plain upload ${Date.now()}`;
    await plain.getByLabel('Text', { exact: true }).fill(text);
    await plain.getByRole('checkbox', { name: /plain_media_x/ }).check();
    await plain.getByLabel('Add files').setInputFiles([png('plain.png', 64, 48, 90)]);
    await plain.getByLabel('Alt text for these files').fill('A plain gradient');
    await plain.getByRole('button', { name: 'Upload', exact: true }).click();

    await expect(plain.getByRole('status').filter({ hasText: 'Uploaded plain.png.' })).toBeVisible();
    await expect(plain.getByLabel('Text', { exact: true })).toHaveValue(text);
    await expect(plain.getByRole('checkbox', { name: /plain_media_x/ })).toBeChecked();
    await expect(plain.locator('.attached-item img.thumb')).toHaveCount(1);
    await expect(plain.getByLabel('Alt text for image 1')).toHaveValue('A plain gradient');

    await plain.getByRole('button', { name: 'Publish now', exact: true }).click();
    const notice = plain.getByRole('status').filter({ hasText: 'Publishing now' });
    await expect(notice).toBeVisible();
    await notice.getByRole('link', { name: 'Follow it' }).click();
    await expect(plain.getByRole('heading', { level: 1, name: 'Post' })).toBeVisible();
    await expect(plain.locator('.post-media img.thumb')).toHaveAttribute('alt', 'A plain gradient');
    await expect(plain.locator('body[data-hydrated]')).toHaveCount(0);
  } finally {
    await context.close();
  }
});

test('the Media page lists, searches and deletes, and keeps what a pending post uses', async ({ page }) => {
  await signUp(page, newAccount('library'));
  await connectX(page, 'library_x');
  await open(page, 'Media');
  await expect(page.getByText('No media yet.')).toBeVisible();
  await page.getByLabel('Files', { exact: true }).setInputFiles([png('keep.png', 64, 64, 10), png('drop.png', 64, 64, 250)]);
  await page.getByRole('button', { name: 'Upload', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Uploaded keep.png, drop.png.' })).toBeVisible();
  const items = page.locator('.library-item');
  await expect(items).toHaveCount(2);
  await expect(items.locator('img.thumb')).toHaveCount(2);
  await expect(page.locator('.storage')).toContainText(' of ');

  await page.getByLabel('Name', { exact: true }).fill('keep');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await expect(items).toHaveCount(1);
  await expect(items).toContainText('keep.png');

  // "Use in a new post" attaches it in Compose; scheduled, the post holds it.
  await items.getByRole('link', { name: 'Use in a new post' }).click();
  await expect(page.locator('.attached-item')).toContainText('keep.png');
  await waitForHydration(page);
  await expectNoSidewaysScroll(page);
  await page.getByLabel('Text', { exact: true }).fill('Kept for later');
  await page.getByRole('checkbox', { name: /library_x/ }).check();
  await page.getByLabel(/Date and time/).fill('2031-01-01T09:00');
  await page.getByRole('button', { name: 'Schedule', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Scheduled for' })).toBeVisible();

  // Compose's own list of the library (rendered by the server) attaches with a click.
  await open(page, 'Compose');
  await waitForHydration(page);
  await page.getByText('From the library', { exact: true }).click();
  await page.getByRole('button', { name: 'Attach drop.png' }).click();
  await expect(page.locator('.attached-item')).toHaveCount(1);
  await expect(page.locator('.attached-item')).toContainText('drop.png');
  await expect(page.getByLabel('Alt text for image 1')).toBeVisible();

  await open(page, 'Media');
  const keep = items.filter({ hasText: 'keep.png' });
  await expect(keep).toContainText('Used by 1 post');
  await keep.getByRole('button', { name: 'Delete keep.png' }).click();
  await expect(page.getByText('is used by the post “Kept for later”')).toBeVisible();
  await expect(items).toHaveCount(2);

  await items.filter({ hasText: 'drop.png' }).getByRole('button', { name: 'Delete drop.png' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Deleted drop.png.' })).toBeVisible();
  await expect(items).toHaveCount(1);
  await expect(items).toContainText('keep.png');
  await expectNoSidewaysScroll(page);
});

/** At a phone's width (375 px) the page fits: nothing scrolls sideways. */
async function expectNoSidewaysScroll(page: Page) {
  const size = page.viewportSize();
  await page.setViewportSize({ width: 375, height: 800 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow, 'the page scrolls sideways at 375 px').toBeLessThanOrEqual(0);
  if (size) await page.setViewportSize(size);
}
