import { test as base, expect, type Locator, type Page } from '@playwright/test';

/**
 * Every test fails if the browser reports an error: a hydration mismatch or a wasm panic shows
 * up only there, while the server-rendered page can look fine. Answers of 4xx to server-function
 * calls are expected (a wrong password is a 401) and the browser logs those, so they are let through.
 */
export const test = base.extend<{ browserErrors: string[] }>({
  browserErrors: [
    async ({ context }, use) => {
      const errors: string[] = [];
      const watch = (p: Page) => {
        p.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
        p.on('console', (m) => {
          const expected4xx = /^Failed to load resource: the server responded with a status of 4\d\d/.test(m.text());
          if (m.type() === 'error' && !expected4xx) errors.push(`console error: ${m.text()}`);
        });
      };
      context.pages().forEach(watch);
      context.on('page', watch);
      await use(errors);
      expect(errors, 'the browser reported errors').toEqual([]);
    },
    { auto: true },
  ],
});

export const PASSWORD = 'correct horse battery';

/** Options shared by the helpers. */
export interface StepOptions {
  /**
   * Wait for `<body data-hydrated>` after each full page load before typing.
   * Default true. Pass false in a context with JavaScript disabled, where
   * hydration never happens and the forms are submitted as plain HTML forms.
   */
  hydrated?: boolean;
}

export interface Account {
  team: string;
  email: string;
  password: string;
}

function uniqueSuffix(): string {
  return `${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
}

/** A fresh, unique email address, e.g. `first-1700000000000-k3j9zq@example.com`. */
export function uniqueEmail(prefix = 'user'): string {
  return `${prefix}-${uniqueSuffix()}@example.com`;
}

/** A fresh, unique team name. */
export function uniqueTeamName(prefix = 'Team'): string {
  return `${prefix} ${uniqueSuffix()}`;
}

/** A fresh account (team, owner email, password) to sign up with. */
export function newAccount(emailPrefix = 'first'): Account {
  return { team: uniqueTeamName(), email: uniqueEmail(emailPrefix), password: PASSWORD };
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Matches a full URL whose path is exactly `path` (any origin, any query or fragment). */
export function pathIs(path: string): RegExp {
  return new RegExp(`^https?://[^/]+${escapeRegExp(path)}(?:[?#].*)?$`);
}

/** Resolves once the Leptos app has hydrated the current document. */
export async function waitForHydration(page: Page): Promise<void> {
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
}

async function settle(page: Page, opts: StepOptions): Promise<void> {
  if (opts.hydrated ?? true) await waitForHydration(page);
}

/** The main navigation (the one holding the app's section links). */
export function mainNav(page: Page): Locator {
  return page
    .getByRole('navigation')
    .filter({ has: page.getByRole('link', { name: 'Compose', exact: true }) });
}

export const NAV_LINKS = ['Dashboard', 'Compose', 'Media', 'Accounts', 'Analytics', 'Audit', 'Status', 'Settings'] as const;

/** Asserts the browser is on the dashboard, signed in as `email` of `team`. */
export async function expectDashboard(page: Page, team: string, email: string): Promise<void> {
  await expect(page).toHaveURL(pathIs('/'));
  await expect(page.getByRole('heading', { level: 1, name: 'Dashboard', exact: true })).toBeVisible();
  const header = page.getByRole('banner');
  await expect(header).toContainText(team);
  await expect(header).toContainText(email);
}

/** Signs up a new team from /signup and waits for the dashboard. */
export async function signUp(page: Page, account: Account, opts: StepOptions = {}): Promise<void> {
  await page.goto('/signup');
  await expect(page.getByRole('heading', { level: 1, name: 'Create your team', exact: true })).toBeVisible();
  await settle(page, opts);
  await page.getByLabel('Team name', { exact: true }).fill(account.team);
  await page.getByLabel('Email', { exact: true }).fill(account.email);
  await page.getByLabel('Password', { exact: true }).fill(account.password);
  await page.getByRole('button', { name: 'Sign up', exact: true }).click();
  await expectDashboard(page, account.team, account.email);
}

/**
 * Fills and submits the login form on the current page, which must already be
 * /login (possibly with ?next=...). Does not check where the browser lands.
 */
export async function submitLogin(
  page: Page,
  email: string,
  password: string,
  opts: StepOptions = {},
): Promise<void> {
  await expect(page).toHaveURL(pathIs('/login'));
  await expect(page.getByRole('heading', { level: 1, name: 'Log in', exact: true })).toBeVisible();
  await settle(page, opts);
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
}

/** Opens /login, logs in and waits to land on `expectedPath` (default `/`). */
export async function logIn(
  page: Page,
  email: string,
  password: string,
  expectedPath = '/',
  opts: StepOptions = {},
): Promise<void> {
  await page.goto('/login');
  await submitLogin(page, email, password, opts);
  await expect(page).toHaveURL(pathIs(expectedPath));
}

/** Clicks "Log out" and waits to be on /login. */
export async function logOut(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Log out', exact: true }).click();
  await expect(page).toHaveURL(pathIs('/login'));
  await expect(page.getByRole('heading', { level: 1, name: 'Log in', exact: true })).toBeVisible();
}

/** Opens a section from the main navigation and waits for its heading. */
export async function open(page: Page, section: string) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: section, exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: section })).toBeVisible();
}

/** Connect <platform> through the sandbox's consent page. */
export async function consent(page: Page, platform: string, account: string, extra: Record<string, string> = {}) {
  await page.getByRole('link', { name: `Connect ${platform}`, exact: true }).click();
  await expect(page.getByText('Crier (sandbox)').first()).toBeVisible();
  await page.getByLabel('Account', { exact: true }).fill(account);
  for (const [label, value] of Object.entries(extra)) {
    await page.getByLabel(label, { exact: true }).fill(value);
  }
  await page.getByRole('button', { name: 'Authorize', exact: true }).click();
}

/** Connects the X account `username` through the sandbox. */
export async function connectX(page: Page, username: string) {
  await open(page, 'Accounts');
  await consent(page, 'X', username);
  await expect(page.getByText(`Connected X account ${username}.`)).toBeVisible();
}

/** Writes `text`, ticks `accounts` and presses `button`; answers the new post's page. */
export async function compose(page: Page, text: string, accounts: RegExp[], button: 'Publish now' | 'Dry run') {
  await open(page, 'Compose');
  await waitForHydration(page);
  await page.getByLabel('Text', { exact: true }).fill(text);
  for (const account of accounts) {
    await page.getByRole('checkbox', { name: account }).check();
  }
  await page.getByRole('button', { name: button, exact: true }).click();
  const notice = page.getByRole('status').filter({ hasText: button === 'Dry run' ? 'Dry run started' : 'Publishing now' });
  await expect(notice).toBeVisible();
  await notice.getByRole('link', { name: 'Follow it' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Post' })).toBeVisible();
}

/** A delivery's chip on a post's page. */
export const chip = (page: Page, account: RegExp) => page.locator('.deliveries .chip').filter({ hasText: account });
