import { expect } from '@playwright/test';
import { test, connectX, newAccount, signUp } from './helpers';

test('a CSV with a bad row is refused with the row to fix; fixed, it is imported once', async ({ page }) => {
  await signUp(page, newAccount('importer'));
  await connectX(page, 'import_x');
  await page.goto('/compose');
  await page.getByRole('link', { name: 'Import from CSV', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Import posts from a CSV file' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Download the template' })).toHaveAttribute('href', '/compose/import/template.csv');

  const header = 'text,accounts,date,time\n';
  const good = 'First imported post,@import_x,2199-06-01,09:00\n';
  const upload = async (csv: string) => {
    await page.getByLabel('CSV file').setInputFiles({ name: 'posts.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.getByRole('button', { name: 'Import', exact: true }).click();
  };

  await upload(header + good + 'Second post,Nobody Here,2199-06-02,09:00\n');
  await expect(page.getByRole('alert').filter({ hasText: 'Nothing was imported: 1 problem to fix in 2 rows.' })).toBeVisible();
  const problem = page.getByRole('row').filter({ hasText: 'Nobody Here' });
  await expect(problem.getByRole('cell').nth(0)).toHaveText('3');
  await expect(problem.getByRole('cell').nth(1)).toHaveText('accounts');

  await upload(header + good + 'Second post,@import_x,2199-06-02,09:00\n');
  await expect(page.getByRole('status').filter({ hasText: 'Imported 2 posts.' })).toBeVisible();
  await upload(header + good + 'Second post,@import_x,2199-06-02,09:00\n');
  await expect(page.getByRole('status').filter({ hasText: 'Nothing new to import: all 2 rows were already imported.' })).toBeVisible();
});
