import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defineConfig } from '@playwright/test';
import { sandboxControlToken } from './tests/sandbox-token';

// Repository root: the directory above end2end/.
const repoRoot = path.resolve(__dirname, '..');

const port = Number(process.env.E2E_PORT ?? 3300);
const origin = `http://127.0.0.1:${port}`;

const crierBin = process.env.CRIER_BIN ?? path.join(repoRoot, 'target', 'debug', 'crier');
const siteRoot = process.env.LEPTOS_SITE_ROOT ?? path.join(repoRoot, 'target', 'site');
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// A fresh data directory for the server's embedded PostgreSQL. Playwright
// evaluates this file in the runner and again in every worker process; the
// workers inherit the runner's environment, so the directory is created once
// and reused through CRIER_E2E_DATA_DIR instead of making a new one per process.
function dataDir(): string {
  const existing = process.env.CRIER_E2E_DATA_DIR;
  if (existing) return existing;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crier-e2e-'));
  // When run as root the app starts postgres as the `postgres` user, which
  // must be able to traverse this directory.
  fs.chmodSync(dir, 0o755);
  process.env.CRIER_E2E_DATA_DIR = dir;
  return dir;
}

// Playwright starts the web server with { ...process.env, ...webServer.env },
// so an explicit env object alone cannot keep DATABASE_URL away from it.
// Drop it from the runner's own environment (the tests never need it) and
// also map it to undefined, which Node's spawn leaves out of the child's env.
delete process.env.DATABASE_URL;

const serverEnv: Record<string, string | undefined> = {
  CRIER_ADDR: `127.0.0.1:${port}`,
  CRIER_PUBLIC_URL: origin,
  CRIER_DATA_DIR: dataDir(),
  LEPTOS_SITE_ROOT: siteRoot,
  LEPTOS_OUTPUT_NAME: 'crier',
  RUST_LOG: 'info',
  // The webhook test's receiver is a plain http server on 127.0.0.1: plain http, and the
  // operator's opt-in for that one loopback address (every other internal address stays refused).
  CRIER_WEBHOOKS_ALLOW_HTTP: '1',
  // Every spec signs up teams from 127.0.0.1: far more than a person would from one address.
  CRIER_SIGNUP_RATE_LIMIT: '1000/1h',
  // The tests drive the sandbox's control API (faults), which answers only to this token.
  CRIER_SANDBOX_CONTROL_TOKEN: sandboxControlToken,
  // The webhook test's receiver listens on loopback, which Crier does not call unless allowed.
  CRIER_OUTBOUND_ALLOW_NETWORKS: '127.0.0.1/32',
  DATABASE_URL: undefined,
};
if (process.env.PATH !== undefined) serverEnv.PATH = process.env.PATH;
if (process.env.HOME !== undefined) serverEnv.HOME = process.env.HOME;

export default defineConfig({
  testDir: './tests',
  outputDir: './test-results',
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: 1,
  fullyParallel: false,
  timeout: 30_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],

  use: {
    baseURL: origin,
    trace: 'retain-on-failure',
  },

  projects: [
    {
      name: 'chromium',
      use: {
        browserName: 'chromium',
        headless: true,
        viewport: { width: 1280, height: 720 },
        launchOptions: {
          executablePath: chromiumPath,
          args: [
            '--no-sandbox',
            '--disable-gpu',
            '--disable-dev-shm-usage',
            '--disable-quic',
            '--no-first-run',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
          ],
        },
      },
    },
  ],

  webServer: {
    command: `"${crierBin}" serve`,
    cwd: repoRoot,
    url: `${origin}/healthz`,
    // The first start runs initdb for the embedded PostgreSQL.
    timeout: 180_000,
    reuseExistingServer: false,
    stdout: 'pipe',
    stderr: 'pipe',
    gracefulShutdown: { signal: 'SIGTERM', timeout: 10_000 },
    env: serverEnv as Record<string, string>,
  },
});
