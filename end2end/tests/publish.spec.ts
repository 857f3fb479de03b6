import { expect } from '@playwright/test';
import { test, chip, compose, connectX, consent, newAccount, open, signUp, waitForHydration } from './helpers';
import { sandboxControlToken } from './sandbox-token';

test('compose and publish now to X, LinkedIn and a Facebook Page, and watch them go out with permalinks', async ({ page }) => {
  await signUp(page, newAccount('publish'));
  await connectX(page, 'launch_x');
  await consent(page, 'LinkedIn', 'grace-hopper');
  await expect(page.getByRole('heading', { level: 1, name: 'Connect LinkedIn' })).toBeVisible();
  await waitForHydration(page);
  await page.getByRole('button', { name: 'Connect selected' }).click();
  await expect(page).toHaveURL(/\/accounts$/);
  await consent(page, 'Facebook', 'Grace Facebook', { 'New Page': 'Launch Page' });
  await expect(page.getByRole('heading', { level: 1, name: 'Connect Facebook' })).toBeVisible();
  await waitForHydration(page);
  await page.getByLabel('Launch Page (Page)').check();
  await page.getByRole('button', { name: 'Connect selected' }).click();
  await expect(page).toHaveURL(/\/accounts$/);

  const text = `We launch today ${Date.now()}`;
  await compose(page, text, [/launch_x/, /Grace Hopper/, /Launch Page/], 'Publish now');
  for (const account of [/launch_x/, /Grace Hopper/, /Launch Page/]) {
    await expect(chip(page, account)).toContainText('Published');
  }
  const links = page.getByRole('link', { name: 'View the post' });
  await expect(links).toHaveCount(3);
  for (const link of await links.all()) {
    await expect(link).toHaveAttribute('href', /^https:\/\//);
  }
  await expect(page.getByRole('table')).toContainText('published');

  // The dashboard lists it with a chip per account.
  await open(page, 'Dashboard');
  const line = page.locator('.post-line').filter({ hasText: text });
  await expect(line.locator('.chip')).toHaveCount(3);
  await expect(line.locator('.chip.published')).toHaveCount(3);
});

test('a dry run goes through everything but the publish call', async ({ page }) => {
  await signUp(page, newAccount('dryrun'));
  await connectX(page, 'rehearsal_x');
  await compose(page, `Rehearsal ${Date.now()}`, [/rehearsal_x/], 'Dry run');
  await expect(chip(page, /rehearsal_x/)).toContainText('Dry run OK');
  await expect(page.getByRole('link', { name: 'View the post' })).toHaveCount(0);
});

test('a refused post shows the platform\'s reason, and Retry publishes it', async ({ page }) => {
  await signUp(page, newAccount('retry'));
  await connectX(page, 'retry_x');
  // The next X publish is refused as a duplicate (permanent: no automatic retry).
  const injected = await page.request.post('/sandbox/control/x/faults', {
    headers: { Authorization: `Bearer ${sandboxControlToken}` },
    data: {
      next_responses: [{
        status: 403,
        body: { title: 'Forbidden', detail: 'You are not allowed to create a Tweet with duplicate content.', type: 'about:blank', status: 403 },
      }],
    },
  });
  expect(injected.ok()).toBeTruthy();
  await compose(page, `Second time lucky ${Date.now()}`, [/retry_x/], 'Publish now');
  await expect(chip(page, /retry_x/)).toContainText('Failed');
  await expect(page.locator('.deliveries .reason')).toContainText('duplicate content');

  await waitForHydration(page);
  await page.getByRole('button', { name: /^Retry retry_x/ }).click();
  await expect(chip(page, /retry_x/)).toContainText('Published');
  await expect(page.getByRole('link', { name: 'View the post' })).toHaveCount(1);
});

test.describe('in Berlin', () => {
  test.use({ timezoneId: 'Europe/Berlin' });

  test('a schedule time inside a daylight-saving gap is explained, not shifted', async ({ page }) => {
    await signUp(page, newAccount('dst'));
    await open(page, 'Compose');
    await waitForHydration(page);
    const when = page.getByLabel('Date and time (Europe/Berlin)');
    await when.fill('2027-03-28T02:30');
    await expect(page.locator('#scheduled-at-explained')).toContainText('does not exist in Europe/Berlin');
    await when.fill('2027-03-28T10:00');
    await expect(page.locator('#scheduled-at-explained')).toContainText('2027-03-28 10:00 CEST = 2027-03-28 08:00 UTC');
  });

  test('a schedule time that happens twice asks which one, and only then', async ({ page }) => {
    await signUp(page, newAccount('dst-twice'));
    await open(page, 'Compose');
    await waitForHydration(page);
    const which = page.getByRole('group', { name: 'That time happens twice. Publish at:' });
    await expect(which).toBeHidden();
    await page.getByLabel('Date and time (Europe/Berlin)').fill('2027-10-31T02:30');
    await expect(page.locator('#scheduled-at-explained')).toContainText('happens twice');
    await expect(which).toBeVisible();
    await which.getByLabel('the second (standard time)').check();
    await expect(page.locator('#scheduled-at-explained')).toContainText('2027-10-31 02:30 CET = 2027-10-31 01:30 UTC');
  });
});

test('a scheduled post is edited, rescheduled and cancelled before it goes out', async ({ page }) => {
  await signUp(page, newAccount('schedule'));
  await connectX(page, 'later_x');
  await open(page, 'Compose');
  await waitForHydration(page);
  await page.getByLabel('Text', { exact: true }).fill('Next year, first draft');
  await page.getByRole('checkbox', { name: /later_x/ }).check();
  await page.getByLabel(/Date and time/).fill('2030-06-01T09:30');
  await page.getByRole('button', { name: 'Schedule', exact: true }).click();
  const notice = page.getByRole('status').filter({ hasText: 'Scheduled for 2030-06-01 09:30' });
  await expect(notice).toBeVisible();
  await notice.getByRole('link', { name: 'Follow it' }).click();
  await expect(chip(page, /later_x/)).toContainText('Scheduled');

  await waitForHydration(page);
  await page.getByText('Edit or reschedule').click();
  // A refused edit (a link the browser accepts and Crier does not) comes back open, with the
  // error and everything typed; the post itself is unchanged.
  await page.getByLabel('Text', { exact: true }).fill('Next year, second draft');
  await page.getByLabel('Link', { exact: true }).fill('ftp://example.com/file');
  await page.getByLabel('Date and time').fill('2030-06-02T10:00');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByText('Enter a full web address starting with https://')).toBeVisible();
  await expect(page.getByLabel('Text', { exact: true })).toHaveValue('Next year, second draft');
  await expect(page.getByLabel('Link', { exact: true })).toHaveValue('ftp://example.com/file');
  await expect(page.getByLabel('Date and time')).toHaveValue('2030-06-02T10:00');
  await expect(page.locator('.post-text').first()).toHaveText('Next year, first draft');

  await waitForHydration(page);
  await page.getByLabel('Link', { exact: true }).fill('');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Saved. Due 2030-06-02 10:00' })).toBeVisible();
  await expect(page.locator('.post-text').first()).toHaveText('Next year, second draft');

  await page.getByRole('button', { name: 'Cancel what has not gone out' }).click();
  await expect(chip(page, /later_x/)).toContainText('Cancelled');
});

test('a batch of posts with their own times goes in whole, or not at all', async ({ page }) => {
  await signUp(page, newAccount('batch'));
  await connectX(page, 'batch_x');
  await open(page, 'Compose');
  await page.getByRole('link', { name: 'Schedule several posts at once' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Schedule batch' })).toBeVisible();
  await waitForHydration(page);
  await page.getByRole('checkbox', { name: /batch_x/ }).check();
  await page.getByLabel(/Posts, one per line/).fill('2030-01-01 09:00 | Happy new year\n2030-01-02 soon | Broken line');
  await page.getByRole('button', { name: 'Schedule batch' }).click();
  await expect(page.locator('#posts-error')).toContainText('Line 2');
  await page.getByLabel(/Posts, one per line/).fill('2030-01-01 09:00 | Happy new year\n2030-01-02 09:00 | Back to work');
  await page.getByRole('button', { name: 'Schedule batch' }).click();
  await expect(page.getByRole('status')).toContainText('Scheduled 2 posts to 1 account.');
  await open(page, 'Dashboard');
  await expect(page.locator('.post-line')).toHaveCount(2);
  await expect(page.locator('.post-line').filter({ hasText: 'Happy new year' }).locator('.chip')).toContainText('Scheduled');
});
