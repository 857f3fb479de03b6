import { expect, type Browser, type Page } from '@playwright/test';
import { test, chip, connectX, newAccount, signUp, uniqueEmail, waitForHydration } from './helpers';

/** Invites `email` as an editor from Settings → Members and answers the invite link. */
async function inviteEditor(page: Page, email: string): Promise<string> {
  await page.goto('/settings/members');
  const form = page.locator('form').filter({ has: page.getByRole('button', { name: 'Create invite', exact: true }) });
  await form.getByLabel('Email', { exact: true }).fill(email);
  await form.getByLabel('Role').selectOption('editor');
  await form.getByRole('button', { name: 'Create invite', exact: true }).click();
  const link = page.getByLabel('Invite link');
  await expect(link).toHaveValue(/\/invite\//);
  return link.inputValue();
}

/** A second person, in a browser of their own, joins through `url`. */
async function join(browser: Browser, url: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await page.goto(url);
  await waitForHydration(page);
  await page.getByLabel('Password', { exact: true }).fill('another correct horse battery');
  await page.getByRole('button', { name: 'Join team', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Dashboard' })).toBeVisible();
  return page;
}

test('with approvals on, an editor submits, the owner is told and asks for changes, the editor resubmits, the owner approves; a client approves through a review link', async ({ page, browser }) => {
  await signUp(page, newAccount('approver'));
  await connectX(page, 'review_x');
  // Settings → Approvals: editors' posts need one approval.
  await page.goto('/settings');
  await page.getByLabel('Posts need approval').selectOption('editors');
  await page.getByRole('button', { name: 'Save approvals', exact: true }).click();
  await expect(page.getByText("Saved. Editors' posts need 1 approval")).toBeVisible();

  const editor = await join(browser, await inviteEditor(page, uniqueEmail('editor')));
  await editor.goto('/compose');
  await waitForHydration(editor);
  // The editor cannot publish straight away: the form offers Submit for review.
  await expect(editor.getByRole('button', { name: 'Publish now', exact: true })).toHaveCount(0);
  const text = `For approval ${Date.now()}`;
  await editor.getByLabel('Text', { exact: true }).fill(text);
  await editor.getByRole('checkbox', { name: /review_x/ }).check();
  await editor.locator('#scheduled_at').fill('2199-06-01T09:00');
  await editor.getByRole('button', { name: 'Submit for review', exact: true }).click();
  await expect(editor.getByRole('status').filter({ hasText: 'Submitted for review' })).toBeVisible();

  // The owner's bell counts it; the notification leads to the Review page.
  await page.goto('/');
  await expect(page.getByRole('link', { name: 'Notifications, 1 unread' })).toBeVisible();
  await page.getByRole('link', { name: 'Notifications, 1 unread' }).click();
  await page.getByRole('link', { name: `“${text}” waits for your review.` }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Review' })).toBeVisible();
  const waiting = page.locator('li.post-line').filter({ hasText: text });
  await waiting.getByLabel('Comment (required to request changes)').fill('Say which day');
  await waiting.getByRole('button', { name: 'Request changes', exact: true }).click();
  await expect(page.getByText('Sent back to its author with your comment.')).toBeVisible();

  // The editor is told, opens the post in Compose (the comment in its activity), edits and resubmits.
  await editor.goto('/notifications');
  await editor.getByRole('link', { name: `Changes were requested on “${text}”.` }).click();
  await expect(editor.locator('.activity')).toContainText('Requested changes. “Say which day”');
  await waitForHydration(editor);
  await editor.getByLabel('Text', { exact: true }).fill(`${text}, on Monday`);
  await editor.getByRole('button', { name: 'Submit for review', exact: true }).click();
  await expect(editor.getByRole('status').filter({ hasText: 'Submitted for review' })).toBeVisible();

  // The owner approves: it is scheduled for its time.
  await page.goto('/review');
  await page.locator('li.post-line').filter({ hasText: `${text}, on Monday` }).getByRole('button', { name: 'Approve', exact: true }).click();
  await expect(page.getByText('Approved and scheduled for 2199-06-01 09:00')).toBeVisible();

  // A client review link for it, opened in a browser with no Crier session, approves it.
  await page.goto('/?view=month&at=2199-06-01');
  await page.locator('.calendar .entry').filter({ hasText: 'on Monday' }).locator('a').click();
  await expect(page.getByRole('heading', { level: 1, name: 'Post' })).toBeVisible();
  const postPage = page.url();
  await page.getByRole('link', { name: 'Share for review with a client' }).click();
  await page.getByLabel('Label').fill('Client');
  await page.getByRole('button', { name: 'Create link', exact: true }).click();
  const created = page.getByLabel('Review link', { exact: true });
  await expect(created).toHaveValue(/\/r\/crier_rvw_/);
  const url = await created.inputValue();
  const client = await (await browser.newContext()).newPage();
  await client.goto(url);
  await expect(client.getByRole('heading', { level: 1, name: 'Review: Client' })).toBeVisible();
  await expect(client.locator('.preview[data-platform="x"]')).toContainText('on Monday');
  await client.getByRole('button', { name: 'Approve', exact: true }).click();
  await expect(client.getByText('Thank you: the team sees your approval.')).toBeVisible();
  await page.goto(postPage);
  await expect(page.locator('.activity')).toContainText('Review link “Client”');
});

test('without JavaScript, the same loop works and the approved post goes out in the sandbox', async ({ browser, baseURL }) => {
  const ownerContext = await browser.newContext({ javaScriptEnabled: false, baseURL });
  const editorContext = await browser.newContext({ javaScriptEnabled: false, baseURL });
  try {
    const page = await ownerContext.newPage();
    await signUp(page, newAccount('nojs-approver'), { hydrated: false });
    await page.goto('/accounts');
    await page.getByRole('link', { name: 'Connect X', exact: true }).click();
    await page.getByLabel('Account', { exact: true }).fill('nojs_review_x');
    await page.getByRole('button', { name: 'Authorize', exact: true }).click();
    await expect(page.getByText('Connected X account nojs_review_x.')).toBeVisible();
    await page.goto('/settings');
    await page.getByLabel('Posts need approval').selectOption('editors');
    await page.getByRole('button', { name: 'Save approvals', exact: true }).click();
    await expect(page.getByText("Saved. Editors' posts need 1 approval")).toBeVisible();

    // The editor joins through an invite, with no script either.
    await page.goto('/settings/members');
    const invite = page.locator('form').filter({ has: page.getByRole('button', { name: 'Create invite', exact: true }) });
    await invite.getByLabel('Email', { exact: true }).fill(uniqueEmail('nojs-editor'));
    await invite.getByLabel('Role').selectOption('editor');
    await invite.getByRole('button', { name: 'Create invite', exact: true }).click();
    const link = await page.getByLabel('Invite link').inputValue();
    const editor = await editorContext.newPage();
    await editor.goto(link);
    await editor.getByLabel('Password', { exact: true }).fill('another correct horse battery');
    await editor.getByRole('button', { name: 'Join team', exact: true }).click();
    await expect(editor.getByRole('heading', { level: 1, name: 'Dashboard' })).toBeVisible();

    // Submitted without a time: the approvers decide what, the author then decides when.
    await editor.goto('/compose');
    const text = `No script approval ${Date.now()}`;
    await editor.getByLabel('Text', { exact: true }).fill(text);
    await editor.getByRole('checkbox', { name: /nojs_review_x/ }).check();
    await editor.locator('#scheduled_at').fill('');
    await editor.getByRole('button', { name: 'Submit for review', exact: true }).click();
    await expect(editor.getByRole('status').filter({ hasText: 'Submitted for review' })).toBeVisible();

    await page.goto('/notifications');
    await page.getByRole('link', { name: `“${text}” waits for your review.` }).click();
    const waiting = page.locator('li.post-line').filter({ hasText: text });
    await waiting.getByLabel('Comment (required to request changes)').fill('Add a hashtag');
    await waiting.getByRole('button', { name: 'Request changes', exact: true }).click();
    await expect(page.getByText('Sent back to its author with your comment.')).toBeVisible();

    await editor.goto('/notifications');
    await editor.getByRole('link', { name: `Changes were requested on “${text}”.` }).click();
    await expect(editor.locator('.activity')).toContainText('Requested changes. “Add a hashtag”');
    await editor.getByLabel('Text', { exact: true }).fill(`${text} #crier`);
    await editor.getByRole('button', { name: 'Submit for review', exact: true }).click();
    await expect(editor.getByRole('status').filter({ hasText: 'Submitted for review' })).toBeVisible();

    await page.goto('/review');
    await page.locator('li.post-line').filter({ hasText: `${text} #crier` }).getByRole('button', { name: 'Approve', exact: true }).click();
    await expect(page.getByText('Approved, not scheduled: it has no time yet. Its author chooses one in Compose.')).toBeVisible();

    // The author is told, opens it in Compose, which now offers Publish now, and it goes out.
    await editor.goto('/notifications');
    await editor.getByRole('link', { name: `“${text} #crier” was approved; choose when it goes out.` }).click();
    await expect(editor.getByRole('button', { name: 'Submit for review', exact: true })).toHaveCount(0);
    await editor.getByRole('button', { name: 'Publish now', exact: true }).click();
    const notice = editor.getByRole('status').filter({ hasText: 'Publishing now' });
    await expect(notice).toBeVisible();
    await notice.getByRole('link', { name: 'Follow it' }).click();
    await expect(editor.getByRole('heading', { level: 1, name: 'Post' })).toBeVisible();
    // Without a script the page does not refresh itself: reload until the worker has published it.
    await expect(async () => {
      await editor.reload();
      await expect(chip(editor, /nojs_review_x/)).toContainText('Published', { timeout: 1_000 });
    }).toPass({ timeout: 30_000 });
    await expect(editor.locator('.activity')).toContainText('Approved');
  } finally {
    await ownerContext.close();
    await editorContext.close();
  }
});
