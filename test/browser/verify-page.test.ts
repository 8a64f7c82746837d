/**
 * The public verification page with a real sealed document, in real Chromium, on a phone and a desktop, in
 * English, Swedish and Finnish: the verdict, where the original sits in the sealed file (a 64-character
 * hash that must wrap, not push the page sideways), and the separately sealed evidence of a document that
 * could take only a signature.
 */
import type { Browser, BrowserContext } from 'playwright-core';
import type { DataSource } from 'typeorm';
import { translator } from '../../src/i18n';
import { openTestDataSource, startTestApi, type TestApi } from '../support/harness';
import { createTestPdf } from '../support/pdf-factories';
import {
  desktopContext,
  expectNoSeriousAccessibilityViolations,
  expectPageStructure,
  launchChromium,
  openPage,
  phoneContext,
  screenshot,
} from '../support/real-browser';
import { completeOneRound, type CompletedRound } from '../support/rounds';
import { startSmtpCatcher } from '../support/smtp-catcher';

let dataSource: DataSource;
let smtp: Awaited<ReturnType<typeof startSmtpCatcher>>;
let api: TestApi;
let browser: Browser;
let round: CompletedRound;

beforeAll(async () => {
  browser = await launchChromium();
  dataSource = await openTestDataSource();
  smtp = await startSmtpCatcher();
  api = await startTestApi(dataSource, { env: { SMTP_URL: smtp.url } });
  round = await completeOneRound(api, dataSource, smtp, Buffer.from(await createTestPdf([{}, {}])));
});
afterAll(async () => {
  await browser?.close();
  await api?.close();
  await smtp?.close();
  await dataSource?.destroy();
});

describe.each([
  ['phone', phoneContext],
  ['desktop', desktopContext],
] as const)('on a %s', (viewport, newContext) => {
  let context: BrowserContext;
  afterEach(async () => {
    await context?.close();
  });

  test.each(['en', 'sv', 'fi'] as const)('in %s: a sealed document is authentic, its original shown as the prefix, nothing wider than the screen', async (lang) => {
    context = await newContext(browser);
    await context.addCookies([{ name: 'sigill_locale', value: lang, url: api.url }]);
    const { page, problems } = await openPage(context);
    await page.goto(`${api.url}/verify`);
    const t = translator(lang);
    await page.getByLabel(t('verify:file')).setInputFiles({ name: 'sealed.pdf', mimeType: 'application/pdf', buffer: round.sealed });
    await page.getByRole('button', { name: t('verify:submit') }).click();
    await page.getByRole('status').filter({ hasText: t('verify:verdict.authentic') }).waitFor();
    await page.getByText(t('verify:facts.original'), { exact: true }).waitFor();

    // Evaluated in the page (a string, so this file needs no DOM types): how far the page is wider than the screen.
    expect(await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth')).toBeLessThanOrEqual(0);
    await screenshot(page, `${viewport}-${lang}-verify-sealed`);
    await expectNoSeriousAccessibilityViolations(page, `${viewport}-${lang}-verify-sealed`);
    await expectPageStructure(page, `${viewport}-${lang}-verify-sealed`, { lang });
    problems.expectNone(`${viewport}-${lang}-verify-sealed`);
  });
});
