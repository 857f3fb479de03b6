import { expect } from '@playwright/test';
import { test, chip, compose, connectX, newAccount, open, signUp, waitForHydration } from './helpers';

test('analytics shows real numbers as charts, for a chosen range, and exports CSV', async ({ page }) => {
  await signUp(page, newAccount('analytics'));
  await connectX(page, 'figures_x');
  await compose(page, `Counted ${Date.now()}`, [/figures_x/], 'Publish now');
  await expect(chip(page, /figures_x/)).toContainText('Published');

  await open(page, 'Analytics');
  const card = (label: string) => page.locator('dl.cards .card').filter({ has: page.getByText(label, { exact: true }) }).locator('dd');
  await expect(card('Deliveries')).toHaveText('1');
  await expect(card('Published')).toHaveText('1');
  await expect(card('Success rate')).toHaveText('100.0%');
  await expect(card('Attempts per published delivery')).toHaveText('1.0');
  await expect(page.getByRole('img', { name: /published \(green\) and failed \(red\) per day/ })).toBeVisible();
  await expect(page.getByRole('row').filter({ hasText: 'figures_x' })).toContainText('100.0%');
  await page.getByText('Show as a table').click();
  await expect(page.locator('figure.chart table tbody tr')).toHaveCount(30);

  // The CSV behind the link adds up to the same number.
  const href = await page.getByRole('link', { name: 'Export CSV' }).getAttribute('href');
  const csv = await (await page.request.get(href!)).text();
  const rows = csv.trim().split('\n');
  expect(rows[0]).toBe('step_start_utc,step_start_local,published,failed,waiting_at_end');
  expect(rows.slice(1).reduce((sum, row) => sum + Number(row.split(',')[2]), 0)).toBe(1);

  // Another range: a plain GET form, so the address says what is shown.
  await page.getByLabel('From', { exact: true }).fill('2030-01-01');
  await page.getByLabel('Until', { exact: true }).fill('2030-01-02');
  await page.getByRole('button', { name: 'Show' }).click();
  await expect(page).toHaveURL(/from=2030-01-01&until=2030-01-02/);
  await expect(page.getByText('Nothing was due in this range.')).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Per hour' })).toBeVisible();
});

test('an API token is shown once, works for a script, shows its last use, and stops when revoked', async ({ page, request, baseURL }) => {
  await signUp(page, newAccount('tokens'));
  await open(page, 'Settings');
  await page.getByRole('link', { name: 'API', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'API' })).toBeVisible();
  await expect(page.getByRole('cell', { name: '/api/v1/posts/{id}' }).first()).toBeVisible();
  await waitForHydration(page);

  await page.getByLabel('Label', { exact: true }).fill('Deploy script');
  await page.getByLabel('Role', { exact: true }).selectOption('viewer');
  await page.getByLabel('Expires', { exact: true }).selectOption('30');
  await page.getByRole('button', { name: 'Create token' }).click();
  const secret = await page.getByLabel('Token “Deploy script”').inputValue();
  expect(secret).toMatch(/^crier_api_/);

  const auth = { Authorization: `Bearer ${secret}` };
  const accounts = await request.get(`${baseURL}/api/v1/accounts`, { headers: auth });
  expect(accounts.status()).toBe(200);
  expect(await accounts.json()).toEqual([]);

  await page.reload();
  await expect(page.locator('#token-secret')).toHaveCount(0);
  const row = page.getByRole('row').filter({ hasText: 'Deploy script' });
  await expect(row).toContainText('Viewer');
  // Used once above and given 30 days, so neither "Last used" nor "Expires" reads "never".
  await expect(row).not.toContainText('never');
  await waitForHydration(page);
  await page.getByRole('button', { name: 'Revoke Deploy script' }).click();
  await expect(page.getByRole('row').filter({ hasText: 'Deploy script' })).toHaveCount(0);
  const revoked = await request.get(`${baseURL}/api/v1/accounts`, { headers: auth });
  expect(revoked.status()).toBe(401);
  expect(revoked.headers()['content-type']).toBe('application/problem+json');
});
