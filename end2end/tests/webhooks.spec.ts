import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from '@playwright/test';
import { test, newAccount, open, signUp, waitForHydration } from './helpers';

/** One call as the receiver saw it: headers and the raw body bytes. */
interface Received {
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/**
 * Checks a `Crier-Signature` header exactly as docs/webhooks.md tells receivers to: `t` within five
 * minutes, HMAC-SHA256 with the signing secret over `<t>.<raw body>`, compared in constant time.
 */
function verify(secret: string, header: string, rawBody: Buffer, toleranceSeconds = 300): boolean {
  const parts = header.split(',').map((p) => p.trim().split('='));
  const t = Number(parts.find(([k]) => k === 't')?.[1]);
  const signatures = parts.filter(([k]) => k === 'v1').map(([, v]) => v);
  if (!Number.isInteger(t) || Math.abs(Date.now() / 1000 - t) > toleranceSeconds) return false;
  const expected = crypto.createHmac('sha256', secret).update(`${t}.`).update(rawBody).digest('hex');
  return signatures.some(
    (s) => s.length === expected.length && crypto.timingSafeEqual(Buffer.from(s), Buffer.from(expected)),
  );
}

/** A webhook receiver on 127.0.0.1 that records every call and answers 204. */
async function startReceiver() {
  const calls: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      calls.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/crier`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        // Crier keeps its connection alive; close it rather than wait for it to idle out.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

test('an endpoint shows its secret once, and a signed test event is delivered and logged', async ({ page }) => {
  const receiver = await startReceiver();
  try {
    await signUp(page, newAccount('webhooks'));
    await open(page, 'Settings');
    await page.getByRole('link', { name: 'Webhooks', exact: true }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Webhooks', exact: true })).toBeVisible();
    await waitForHydration(page);
    await expect(page.getByText('No endpoints yet.')).toBeVisible();

    // A URL Crier cannot call is refused with what to fix.
    const url = page.getByLabel('URL', { exact: true });
    await url.fill('ftp://example.com/hooks');
    await page.getByRole('button', { name: 'Add endpoint', exact: true }).click();
    await expect(page.getByText('is not a web address. Enter one starting with https://.')).toBeVisible();
    // So is an internal address (only 127.0.0.1 is allowed on this server), saying why.
    await url.fill('https://169.254.169.254/latest/meta-data/');
    await page.getByRole('button', { name: 'Add endpoint', exact: true }).click();
    await expect(page.getByText('169.254.169.254 is a link-local address')).toBeVisible();

    await url.fill(receiver.url);
    await expect(page.getByRole('checkbox', { name: /delivery\.published/ })).toBeChecked();
    await page.getByRole('button', { name: 'Add endpoint', exact: true }).click();
    const secretBox = page.getByLabel('Signing secret', { exact: true });
    await expect(secretBox).toHaveValue(/^crier_whsec_[A-Za-z0-9_-]{43}$/);
    const secret = await secretBox.inputValue();
    const panel = page.getByRole('region', { name: receiver.url });
    await expect(panel).toContainText('Enabled');
    await expect(panel).toContainText('No calls yet.');

    await panel.getByRole('button', { name: `Send a test event to ${receiver.url}`, exact: true }).click();
    await expect(page.getByRole('status').filter({ hasText: 'A test event is on its way' })).toBeVisible();
    // The log looks again by itself while a call is due: queued, then delivered.
    const line = panel.locator('table.webhook-log tbody tr').first();
    await expect(line).toContainText('delivered', { timeout: 20_000 });
    await expect(line).toContainText('ping');
    await expect(line.locator('td').nth(2)).toHaveText('1');
    await expect(line.locator('td').nth(3)).toHaveText('204');

    // The receiver got one call, and the documented check accepts it (and refuses a tampered body).
    expect(receiver.calls).toHaveLength(1);
    const [call] = receiver.calls;
    const signature = String(call.headers['crier-signature']);
    expect(signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verify(secret, signature, call.body)).toBe(true);
    expect(verify(secret, signature, Buffer.from(call.body.toString().replace('"ping"', '"pong"')))).toBe(false);
    const body = JSON.parse(call.body.toString());
    expect(body.type).toBe('ping');
    expect(call.headers['crier-event']).toBe('ping');
    expect(call.headers['crier-webhook-id']).toBe(body.id);
    expect(call.headers['content-type']).toBe('application/json');

    // The secret was shown once.
    await page.reload();
    await expect(page.getByRole('region', { name: receiver.url })).toBeVisible();
    await expect(page.getByLabel('Signing secret', { exact: true })).toHaveCount(0);
    expect(await page.content()).not.toContain(secret);
  } finally {
    await receiver.close();
  }
});
