// Real Chromium for the browser tests: Debian's /usr/bin/chromium driven by playwright-core (no
// browser download). Suites skip themselves, saying why, when the browser is not installed.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** false when Chromium is there; otherwise the reason to skip, for describe(…, { skip }). */
export const skipWithoutChromium: false | string = !existsSync(CHROMIUM)
  ? `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium; .ci/run does) to run the browser tests`
  // The pages in a browser are the same on either database: they run once, in the embedded suite.
  // The PostgreSQL suite covers what the pages read and change through the HTTP tests of the console,
  // the landing page and the app (test/http), which keeps .ci/run's two suites within its time.
  : process.env.DATABASE_URL ? 'the browser tests run in the suite on the embedded database (npm test); with DATABASE_URL the HTTP tests cover PostgreSQL' : false;

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SCREENSHOT_DIR = path.join(ROOT, 'test-artifacts', 'screenshots');
export const DOCS_DIR = path.join(ROOT, 'docs');

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A phone-sized browser context. */
export async function phoneContext(browser: Browser, options: BrowserContextOptions = {}): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'nb-NO', timezoneId: 'Europe/Oslo', ...options });
  context.setDefaultTimeout(10_000);
  return context;
}

/**
 * Saves a screenshot as test-artifacts/screenshots/<name>.png (also under docs/ when asked): the full
 * page, or only the viewport with fullPage false.
 */
export async function screenshot(page: Page, name: string, opts: { docs?: string; fullPage?: boolean } = {}): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const safe = name.replace(/[^A-Za-z0-9._-]+/g, '-');
  const fullPage = opts.fullPage ?? true;
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${safe}.png`), fullPage });
  if (opts.docs) {
    mkdirSync(DOCS_DIR, { recursive: true });
    await page.screenshot({ path: path.join(DOCS_DIR, opts.docs), fullPage });
  }
}

/** Saves PNG bytes taken some other way (a DevTools capture) next to the other screenshots. */
export function rawScreenshot(name: string, png: Buffer): void {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  writeFileSync(path.join(SCREENSHOT_DIR, `${name.replace(/[^A-Za-z0-9._-]+/g, '-')}.png`), png);
}

/** Normalises the non-breaking spaces of Norwegian amounts ("499,00\u00a0kr") for comparisons. */
export function plain(text: string | null): string {
  return (text ?? '').replace(/[\u00a0\u202f]/g, ' ').replace(/\s+/g, ' ').trim();
}
