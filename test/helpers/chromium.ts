/**
 * Headless Chromium for the dashboard tests: the system's /usr/bin/chromium (apt-get install chromium), a fresh
 * profile per run, and every script error, console error and failed response collected for the test to check.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = fs.existsSync(CHROMIUM);

/** What headless Chromium needs on our CI machines (no GPU, no sandbox user namespace, no network chatter). */
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A page in a fresh browser; `errors` collects what went wrong on it (a test clears it where errors are expected). */
export async function openBrowser(errors: string[]): Promise<{ page: Page; close(): Promise<void> }> {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelflow-chromium-'));
  // A persistent context is how Playwright takes a --user-data-dir: a fresh one per run.
  const browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1400, height: 1000 },
  });
  const page = browser.pages()[0] ?? (await browser.newPage());
  // CSP violations and script errors surface here.
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  // A missing favicon or source map is not a console message in every Chromium: watch the responses too.
  page.on('response', (res) => {
    if (res.status() >= 400) errors.push(`HTTP ${res.status()} ${new URL(res.url()).pathname}`);
  });
  return {
    page,
    async close() {
      await browser.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
