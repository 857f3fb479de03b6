import { expect } from '@playwright/test';
import {
  test,
  NAV_LINKS,
  escapeRegExp,
  expectDashboard,
  logIn,
  logOut,
  mainNav,
  newAccount,
  pathIs,
  signUp,
  submitLogin,
  uniqueEmail,
  waitForHydration,
} from './helpers';

test('sign up, log out and log back in', async ({ page }) => {
  const owner = newAccount('first');

  await signUp(page, owner);

  const nav = mainNav(page);
  await expect(nav).toBeVisible();
  for (const name of NAV_LINKS) {
    await expect(nav.getByRole('link', { name, exact: true })).toBeVisible();
  }

  await logOut(page);
  await expect(page.getByRole('link', { name: 'Create a team', exact: true })).toHaveAttribute(
    'href',
    /\/signup$/,
  );

  await logIn(page, owner.email, owner.password);
  await expectDashboard(page, owner.team, owner.email);
});

test('a wrong password is rejected and the email is kept', async ({ page }) => {
  const owner = newAccount('first');
  await signUp(page, owner);
  await logOut(page);

  await page.goto('/login');
  await submitLogin(page, owner.email, 'not the right password');

  await expect(
    page.getByRole('alert').filter({ hasText: 'Wrong email or password.' }),
  ).toBeVisible();
  await expect(page).toHaveURL(pathIs('/login'));
  await expect(page.getByRole('heading', { level: 1, name: 'Log in', exact: true })).toBeVisible();
  await expect(page.getByLabel('Email', { exact: true })).toHaveValue(owner.email);
});

test('a sign-up refused twice shows the second reason only, and keeps what was typed', async ({ page }) => {
  const first = newAccount('first');
  await signUp(page, first);
  await logOut(page);

  const second = newAccount('second');
  await page.goto('/signup');
  await waitForHydration(page);
  await page.getByLabel('Team name', { exact: true }).fill(second.team);
  await page.getByLabel('Email', { exact: true }).fill(first.email);
  await page.getByLabel('Password', { exact: true }).fill('too short');
  await page.getByRole('button', { name: 'Sign up', exact: true }).click();
  await expect(page.getByText('Use at least 10 characters for the password.')).toBeVisible();
  await expect(page.getByLabel('Team name', { exact: true })).toHaveValue(second.team);

  // The form is a plain form: the page's address now holds the first refusal, and the second
  // replaces it rather than queueing behind it.
  await waitForHydration(page);
  await page.getByLabel('Password', { exact: true }).fill(second.password);
  await page.getByRole('button', { name: 'Sign up', exact: true }).click();
  await expect(page.getByText('An account with this email already exists. Log in instead.')).toBeVisible();
  await expect(page.getByText('Use at least 10 characters for the password.')).toHaveCount(0);
  await expect(page.getByLabel('Email', { exact: true })).toHaveValue(first.email);
  expect(new URL(page.url()).searchParams.getAll('__err')).toHaveLength(1);

  await waitForHydration(page);
  await page.getByLabel('Email', { exact: true }).fill(second.email);
  await page.getByLabel('Password', { exact: true }).fill(second.password);
  await page.getByRole('button', { name: 'Sign up', exact: true }).click();
  await expectDashboard(page, second.team, second.email);
});

test('an invite link lets a second person join the team', async ({ page, baseURL }) => {
  const owner = newAccount('first');
  const secondEmail = uniqueEmail('second');
  const secondPassword = 'another correct horse battery';

  await signUp(page, owner);

  // Settings -> Members.
  await mainNav(page).getByRole('link', { name: 'Settings', exact: true }).click();
  await expect(page).toHaveURL(pathIs('/settings'));
  await page.getByRole('link', { name: 'Members', exact: true }).click();
  await expect(page).toHaveURL(pathIs('/settings/members'));
  await expect(page.getByRole('heading', { level: 1, name: 'Members', exact: true })).toBeVisible();

  // Invite the second person as an Editor.
  const inviteForm = page
    .locator('form')
    .filter({ has: page.getByRole('button', { name: 'Create invite', exact: true }) });
  await inviteForm.getByLabel('Email', { exact: true }).fill(secondEmail);
  // Not exact: a <label> wrapping the <select> also carries the option texts.
  await inviteForm.getByLabel('Role').selectOption('editor');
  await inviteForm.getByRole('button', { name: 'Create invite', exact: true }).click();

  const inviteLink = page.getByLabel('Invite link');
  const origin = new URL(baseURL!).origin;
  await expect(inviteLink).toHaveValue(new RegExp(`^${escapeRegExp(origin)}/invite/[^/?#\\s]+$`));
  await expect(inviteLink).not.toBeEditable();
  const inviteUrl = await inviteLink.inputValue();

  await logOut(page);

  // The second person opens the link while signed out.
  await page.goto(inviteUrl);
  await expect(page).toHaveURL(inviteUrl);
  await expect(
    page.getByRole('heading', { level: 1, name: `Join ${owner.team}`, exact: true }),
  ).toBeVisible();
  await expect(page.getByText(secondEmail).first()).toBeVisible();
  await waitForHydration(page);
  await page.getByLabel('Password', { exact: true }).fill(secondPassword);
  await page.getByRole('button', { name: 'Join team', exact: true }).click();

  await expectDashboard(page, owner.team, secondEmail);

  // The Members table, seen by the second person, lists both with their roles.
  await page.goto('/settings/members');
  await expect(page.getByRole('heading', { level: 1, name: 'Members', exact: true })).toBeVisible();
  const table = page.getByRole('table').filter({ hasText: owner.email });
  const ownerRow = table.getByRole('row').filter({ hasText: owner.email });
  const secondRow = table.getByRole('row').filter({ hasText: secondEmail });
  await expect(ownerRow).toHaveCount(1);
  await expect(secondRow).toHaveCount(1);
  await expect(ownerRow.getByRole('cell', { name: /^\s*owner\s*$/i })).toBeVisible();
  await expect(secondRow.getByRole('cell', { name: /^\s*editor\s*$/i })).toBeVisible();
});

test('signed out, /compose redirects to login and back after logging in', async ({ page }) => {
  const owner = newAccount('first');
  await signUp(page, owner);
  await logOut(page);

  await page.goto('/compose');
  await expect(page).toHaveURL(/\/login\?next=(?:%2F|\/)compose$/i);

  await submitLogin(page, owner.email, owner.password);
  await expect(page).toHaveURL(pathIs('/compose'));
});

test('sign up works before hydration (JavaScript disabled)', async ({ browser, baseURL }) => {
  const context = await browser.newContext({ javaScriptEnabled: false, baseURL });
  try {
    const page = await context.newPage();
    const owner = newAccount('nojs');

    await signUp(page, owner, { hydrated: false });

    // Landed on the server-rendered dashboard without any client code running.
    await expect(page.locator('body[data-hydrated]')).toHaveCount(0);
    await expect(
      mainNav(page).getByRole('link', { name: 'Dashboard', exact: true }),
    ).toBeVisible();
  } finally {
    await context.close();
  }
});
