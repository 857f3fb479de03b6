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

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};
const u16 = (n: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
};
const zeros = (n: number) => Buffer.alloc(n);
const box = (kind: string, body: Buffer) => Buffer.concat([u32(body.length + 8), Buffer.from(kind, 'latin1'), body]);
const fullBox = (kind: string, body: Buffer) => box(kind, Buffer.concat([zeros(4), body]));

/** An MP4 track: tkhd, mdia { mdhd, hdlr, minf { stbl { stsd, stts } } }, upright. */
function track(handler: string, codec: string, width: number, height: number, timescale: number, samples: number, delta: number) {
  const matrix = Buffer.concat([0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000].map(u32));
  const tkhd = Buffer.concat([zeros(36), matrix, u32(width * 0x10000), u32(height * 0x10000)]);
  const mdhd = Buffer.concat([zeros(8), u32(timescale), u32(samples * delta), Buffer.from([0x55, 0xc4, 0, 0])]);
  const hdlr = Buffer.concat([zeros(4), Buffer.from(handler, 'latin1'), zeros(13)]);
  const entry = Buffer.concat([zeros(6), u16(1), zeros(16), u16(width), u16(height), zeros(50)]);
  const stsd = fullBox('stsd', Buffer.concat([u32(1), box(codec, entry)]));
  const stts = fullBox('stts', Buffer.concat([u32(1), u32(samples), u32(delta)]));
  const minf = box('minf', box('stbl', Buffer.concat([stsd, stts])));
  return box('trak', Buffer.concat([fullBox('tkhd', tkhd), box('mdia', Buffer.concat([fullBox('mdhd', mdhd), fullBox('hdlr', hdlr), minf]))]));
}

/**
 * A real MP4 made here: 1280×720 H.264 with AAC audio lasting `seconds`, and a few hundred
 * kilobytes of media data (what the duration says is what Crier checks, not what is in it).
 */
function mp4(name: string, seconds: number) {
  const ftyp = box('ftyp', Buffer.concat([Buffer.from('isom'), Buffer.from([0, 0, 2, 0]), Buffer.from('isomiso2avc1mp41')]));
  const mvhd = fullBox('mvhd', Buffer.concat([zeros(8), u32(1000), u32(seconds * 1000), zeros(80)]));
  const video = track('vide', 'avc1', 1280, 720, 30_000, seconds * 30, 1000);
  const audio = track('soun', 'mp4a', 0, 0, 48_000, Math.floor((seconds * 48_000) / 1024), 1024);
  const data = Buffer.alloc(300_000, 7);
  const mdat = Buffer.concat([u32(1), Buffer.from('mdat'), u32(0), u32(data.length + 16), data]);
  return { name, mimeType: 'video/mp4', buffer: Buffer.concat([ftyp, box('moov', Buffer.concat([mvhd, video, audio])), mdat]) };
}

/**
 * A real GIF made here: `frames` frames of `width` × `height` in two colours, LZW-coded the
 * simple way (a clear code after every two pixels keeps every code three bits wide).
 */
function gif(name: string, width: number, height: number, frames: number) {
  const header = Buffer.concat([Buffer.from('GIF89a'), u16le(width), u16le(height), Buffer.from([0x81, 0, 0])]);
  // Four colours (the 0x81 above: a global table of 2^(1+1) entries).
  const palette = Buffer.from([230, 20, 20, 20, 20, 230, 0, 0, 0, 255, 255, 255]);
  const loop = Buffer.concat([Buffer.from([0x21, 0xff, 11]), Buffer.from('NETSCAPE2.0'), Buffer.from([3, 1, 0, 0, 0])]);
  const parts: Buffer[] = [header, palette, loop];
  for (let f = 0; f < frames; f++) {
    const control = Buffer.from([0x21, 0xf9, 4, 0, 10, 0, 0, 0]);
    const descriptor = Buffer.concat([Buffer.from([0x2c]), u16le(0), u16le(0), u16le(width), u16le(height), Buffer.from([0])]);
    const codes: number[] = [];
    for (let i = 0; i < width * height; i++) {
      if (i % 2 === 0) codes.push(4); // clear
      codes.push((i + f) % 2);
    }
    codes.push(5); // end
    const packed: number[] = [];
    let bits = 0;
    let count = 0;
    for (const code of codes) {
      bits |= code << count;
      count += 3;
      while (count >= 8) {
        packed.push(bits & 0xff);
        bits >>= 8;
        count -= 8;
      }
    }
    if (count > 0) packed.push(bits & 0xff);
    const blocks: Buffer[] = [Buffer.from([2])];
    for (let i = 0; i < packed.length; i += 255) {
      const block = packed.slice(i, i + 255);
      blocks.push(Buffer.from([block.length, ...block]));
    }
    blocks.push(Buffer.from([0]));
    parts.push(control, descriptor, ...blocks);
  }
  parts.push(Buffer.from([0x3b]));
  return { name, mimeType: 'image/gif', buffer: Buffer.concat(parts) };
}

function u16le(n: number) {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
}

/** A PDF of `pages` empty pages, its page tree readable. */
function pdf(name: string, pages: number) {
  const kids = Array.from({ length: pages }, (_, i) => `${i + 3} 0 R`).join(' ');
  let body = '%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n';
  body += `2 0 obj\n<< /Type /Pages /Kids [${kids}] /Count ${pages} >>\nendobj\n`;
  for (let i = 0; i < pages; i++) body += `${i + 3} 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>\nendobj\n`;
  body += 'xref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size 1 /Root 1 0 R >>\nstartxref\n9\n%%EOF\n';
  return { name, mimeType: 'application/pdf', buffer: Buffer.from(body, 'latin1') };
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
  const previews = page.locator('#compose-previews');
  await expect(previews.locator('.preview[data-platform="x"] .preview-media img')).toHaveCount(2);
  await expect(previews.locator('.preview-media')).toHaveCount(3);

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

test('a video too long for X is refused in Compose with the reason, and nothing is scheduled', async ({ page }) => {
  await signUp(page, newAccount('longvideo'));
  await connectX(page, 'long_video_x');
  await open(page, 'Compose');
  await waitForHydration(page);
  const text = `Too long for X ${Date.now()}`;
  await page.getByLabel('Text', { exact: true }).fill(text);
  await page.getByRole('checkbox', { name: /long_video_x/ }).check();
  await page.getByLabel('Add files').setInputFiles([mp4('keynote.mp4', 200)]);
  await expect(page.locator('.attached-item')).toContainText('keynote.mp4');

  // X's verdict says what is wrong and what to do, before anything is sent.
  const refusal = page.locator('.media-verdicts .verdict.refused[data-platform="x"]');
  await expect(refusal).toContainText('lasts 3 min 20 s; X takes videos up to 2 min 20 s: trim it');

  // Publishing anyway is refused by the server in the same words, and nothing is scheduled.
  await page.getByRole('button', { name: 'Publish now', exact: true }).click();
  await expect(page.locator('#media-error')).toContainText('X takes videos up to 2 min 20 s');
  await expect(page.getByRole('status').filter({ hasText: 'Publishing now' })).toHaveCount(0);
  await open(page, 'Dashboard');
  await expect(page.locator('.post-line').filter({ hasText: text })).toHaveCount(0);
});

test('a GIF to X, a PDF to LinkedIn and a video to a Facebook Page each go out and show on their delivery', async ({ page }) => {
  // Three uploads and publishes, each waited for up to 30 s: more than the default test time.
  test.setTimeout(120_000);
  await signUp(page, newAccount('kinds'));
  await connectAll(page, 'kinds');
  const cases = [
    { file: gif('party.gif', 40, 30, 2), account: /kinds_x/, platform: 'x', words: 'A GIF' },
    { file: pdf('Deck.pdf', 3), account: /Kinds Li/, platform: 'linkedin', words: 'The deck' },
    { file: mp4('clip.mp4', 20), account: /kinds Page/, platform: 'facebook', words: 'The clip' },
  ];
  for (const { file, account, platform, words } of cases) {
    await open(page, 'Compose');
    await waitForHydration(page);
    await page.getByLabel('Text', { exact: true }).fill(`${words} ${Date.now()}`);
    await page.getByRole('checkbox', { name: account }).check();
    await page.getByLabel('Add files').setInputFiles([file]);
    await expect(page.locator('.attached-item')).toContainText(file.name);
    const verdict = page.locator(`.media-verdicts .verdict[data-platform="${platform}"]`);
    await expect(verdict).toHaveClass(/\bok\b/);

    await page.getByRole('button', { name: 'Publish now', exact: true }).click();
    const notice = page.getByRole('status').filter({ hasText: 'Publishing now' });
    await expect(notice).toBeVisible();
    await notice.getByRole('link', { name: 'Follow it' }).click();
    // A Page video is published once its chunks are in, and followed until processed.
    await expect(chip(page, account)).toContainText('Published', { timeout: 30_000 });
    const sent = page.locator('.deliveries .sent-media li');
    await expect(sent).toHaveCount(1);
    await expect(sent.locator('code').first()).not.toBeEmpty();
  }
});
