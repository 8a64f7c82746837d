/**
 * A real browser for tests: Debian's Chromium driven by playwright-core (no browser download). Use it for
 * what only a browser can tell — layout on a phone, accessibility, the Content-Security-Policy, keyboard use.
 *
 *   launchChromium()                 one browser per test file (beforeAll), closed in afterAll. Chromium comes
 *                                    from CHROMIUM_PATH, else /usr/bin/chromium; if it is missing the test
 *                                    fails saying how to install it (never skipped).
 *   phoneContext(browser)            a 390×844 touch phone at device scale 2; desktopContext(browser): 1280×800.
 *   openPage(context)                a new page that collects its own problems (below): `{ page, problems }`.
 *   collectPageProblems(page)        records console errors, CSP refusals ("Refused to …") and uncaught page
 *                                    errors; `problems.expectNone(label)` fails the test with the list.
 *   screenshot(page, name)           a full-page PNG at test-output/screenshots/<test file>/<name>.png (not
 *                                    committed: look at them after a run).
 *   expectNoSeriousAccessibilityViolations(page, label)
 *                                    axe-core on the page as it is now; fails on serious or critical
 *                                    violations, listing rule, help and the offending elements.
 *   expectPageStructure(page, label, { lang })
 *                                    `<html lang>`, exactly one `<main>`, a non-empty `<h1>` inside it.
 *   expectFirstTabStop(page, target, label)
 *                                    from the top of the page, one Tab focuses `target` and the focus is visible
 *                                    (an outline of at least 2 CSS px, or a box-shadow).
 *
 * Locators auto-wait; wait for a condition (`locator.waitFor()`, `page.waitForURL()`), never for a time.
 */
import fs from 'node:fs';
import path from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Locator, type Page } from 'playwright-core';

const repositoryRoot = path.resolve(__dirname, '../..');

// Page-side callbacks run in the browser. The project compiles without the DOM library (Node code must not see
// `window` and friends), so these declarations, local to this module, name just what those callbacks use.
interface PageElement {
  outerHTML: string;
  textContent: string | null;
}
declare const document: {
  activeElement: PageElement | null;
  body: PageElement;
  documentElement: { lang: string };
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): { length: number };
};
declare function getComputedStyle(element: unknown): { outlineStyle: string; outlineWidth: string; boxShadow: string };

export const chromiumPath = (): string => process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** Launches headless Chromium; `--no-sandbox` because CI runs as root, where Chromium's sandbox refuses to start. */
export async function launchChromium(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!fs.existsSync(executablePath)) {
    throw new Error(
      `Chromium is not installed at ${executablePath}. Browser tests need Debian's chromium: ` +
        `run \`sudo apt-get install -y chromium fonts-dejavu-core\` (CI's .ci/run does), ` +
        `or set CHROMIUM_PATH to a Chromium or Chrome executable.`,
    );
  }
  return chromium.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

/** The phone every page must work on: 390×844 CSS pixels, touch, device scale 2 (an iPhone 12-14 class screen). */
export const phone: BrowserContextOptions = {
  viewport: { width: 390, height: 844 },
  isMobile: true,
  hasTouch: true,
  deviceScaleFactor: 2,
};

export const desktop: BrowserContextOptions = { viewport: { width: 1280, height: 800 } };

export const phoneContext = (browser: Browser, options: BrowserContextOptions = {}): Promise<BrowserContext> =>
  browser.newContext({ ...phone, ...options });

export const desktopContext = (browser: Browser, options: BrowserContextOptions = {}): Promise<BrowserContext> =>
  browser.newContext({ ...desktop, ...options });

export interface PageProblems {
  /** Everything recorded so far, one line each. */
  readonly list: string[];
  /** Fails (throws) when anything was recorded, naming `label` and every problem. */
  expectNone(label: string): void;
}

/**
 * Starts recording what a page must never do: log a console error, have the CSP refuse something (Chromium logs
 * "Refused to load/execute/apply …" or "… violates the following Content Security Policy directive"), or throw
 * an uncaught error. Attach it before navigating.
 *
 * One console error is not the page's fault: Chromium logs "Failed to load resource" when a document itself is
 * answered 4xx (a refused sign-in is a 401 page). Those are left out for documents the main frame navigated
 * to — the test checks such a page's status and text itself; a failing script, style or image still counts.
 */
export function collectPageProblems(page: Page): PageProblems {
  const recorded: { line: string; failedResource?: string }[] = [];
  const documents = new Set<string>();
  page.on('response', (response) => {
    if (response.request().isNavigationRequest() && response.frame() === page.mainFrame()) documents.add(response.url());
  });
  page.on('console', (message) => {
    const text = message.text();
    // Chromium words CSP refusals "Refused to …" or "… violates the following Content Security Policy directive …".
    if (message.type() === 'error' || /^Refused to |Content Security Policy/.test(text)) {
      const where = message.location().url;
      recorded.push({
        line: `console ${message.type()}: ${text}${where ? ` (${where})` : ''}`,
        failedResource: /^Failed to load resource: the server responded with a status of/.test(text) ? where : undefined,
      });
    }
  });
  page.on('pageerror', (error) => recorded.push({ line: `uncaught error: ${error.message}` }));
  const problems = {
    get list() {
      return recorded.filter((entry) => !(entry.failedResource && documents.has(entry.failedResource))).map((entry) => entry.line);
    },
    expectNone(label: string) {
      const list = problems.list;
      if (list.length > 0) throw new Error(`${label}: the page reported ${list.length} problem(s):\n  ${list.join('\n  ')}`);
    },
  };
  return problems;
}

/** A new page in `context` with its problem collector attached. */
export async function openPage(context: BrowserContext): Promise<{ page: Page; problems: PageProblems }> {
  const page = await context.newPage();
  return { page, problems: collectPageProblems(page) };
}

/** The running test file's name without `.test.ts`, e.g. `sign-in-pages`. */
function currentTestFileName(): string {
  const testPath = expect.getState().testPath;
  if (!testPath) throw new Error('screenshot() must be called inside a jest test');
  return path.basename(testPath).replace(/\.test\.[cm]?[jt]sx?$/, '');
}

export const screenshotDir = (testFile = currentTestFileName()): string =>
  path.join(repositoryRoot, 'test-output', 'screenshots', testFile);

/** Writes a full-page PNG to test-output/screenshots/<test file>/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  if (!/^[\w.-]+$/.test(name)) throw new Error(`screenshot name "${name}": use letters, digits, dots, dashes and underscores`);
  const file = path.join(screenshotDir(), `${name}.png`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** axe-core's rules on the page as it is now; fails with a readable list of every serious or critical violation. */
export async function expectNoSeriousAccessibilityViolations(page: Page, label: string): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  const serious = results.violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
  if (serious.length === 0) return;
  const lines = serious.map((violation) => {
    const targets = violation.nodes.map((node) => `      ${node.target.join(' ')}${node.failureSummary ? `: ${node.failureSummary.replace(/\s+/g, ' ')}` : ''}`);
    return `  [${violation.impact}] ${violation.id}: ${violation.help} (${violation.helpUrl})\n${targets.join('\n')}`;
  });
  throw new Error(`${label} (${page.url()}): ${serious.length} serious or critical accessibility violation(s):\n${lines.join('\n')}`);
}

/**
 * From the top of the page, the first Tab lands on `target` (e.g. `page.getByLabel('Email')`, which also
 * proves the label is associated with its control), and the focused control shows a visible focus indicator.
 */
export async function expectFirstTabStop(page: Page, target: Locator, label: string): Promise<void> {
  await target.waitFor();
  // Call it right after the page loaded, as a person who just arrived: nothing may hold the focus yet.
  const before = await page.evaluate(() => (document.activeElement && document.activeElement !== document.body ? document.activeElement.outerHTML.slice(0, 120) : ''));
  if (before) throw new Error(`${label}: expected no focused element before the first Tab, found ${before}`);
  await page.keyboard.press('Tab');
  const focus = await target.evaluate((element) => {
    const style = getComputedStyle(element);
    return {
      focused: element === document.activeElement,
      activeElement: document.activeElement ? document.activeElement.outerHTML.slice(0, 120) : 'none',
      outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
      boxShadow: style.boxShadow !== 'none',
    };
  });
  if (!focus.focused) throw new Error(`${label}: the first Tab focused ${focus.activeElement}, not the expected control`);
  if (!focus.outline && !focus.boxShadow) throw new Error(`${label}: the focused control shows no clear focus indicator (an outline of at least 2px, or a box-shadow)`);
}

/**
 * The frame every page needs: `<html lang>` (equal to `lang` when given), exactly one `<main>`, and a non-empty
 * `<h1>` inside it.
 */
export async function expectPageStructure(page: Page, label: string, expected: { lang?: string } = {}): Promise<void> {
  const found = await page.evaluate(() => ({
    lang: document.documentElement.lang,
    mains: document.querySelectorAll('main').length,
    h1: (document.querySelector('main h1')?.textContent ?? '').trim(),
  }));
  const problems = [
    !found.lang && 'the <html> element has no lang attribute',
    expected.lang && found.lang && found.lang !== expected.lang && `lang is "${found.lang}", expected "${expected.lang}"`,
    found.mains !== 1 && `${found.mains} <main> elements, expected exactly one`,
    !found.h1 && 'no <h1> with text inside <main>',
  ].filter(Boolean);
  if (problems.length > 0) throw new Error(`${label} (${page.url()}): ${problems.join('; ')}`);
}
