import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_SPAN_SECONDS, demoIds, ScriptClock, seedDemo } from '../../src/cli/demo-session.ts';
import type { ProcessRegistry } from '../../src/index.ts';
import { type RunningService, startService } from '../../src/service/server.ts';
import { newToken, TokenTable } from '../../src/service/tokens.ts';
import { quietLogger, serveOn } from './support.ts';

/**
 * The timeline page end to end in headless Chromium (Debian's `chromium`, driven by
 * playwright-core). Screenshots go to test-artifacts/. Without Chromium the suite is
 * skipped, and says so on stderr: install it with `apt-get install chromium`.
 */
const CHROMIUM = process.env.PROCREG_CHROMIUM ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
if (!hasChromium) {
  process.stderr.write(
    `\n*** SKIPPED the browser test: no Chromium at ${CHROMIUM}. Install it (apt-get install -y chromium) or set PROCREG_CHROMIUM. ***\n\n`,
  );
}

describe.skipIf(!hasChromium)('the web timeline in headless Chromium', () => {
  let local: ProcessRegistry;
  let service: RunningService;
  let close: () => Promise<void>;
  let browser: Browser;
  let page: Page;
  let realTime = false;
  const consoleErrors: string[] = [];
  const script = new ScriptClock(Date.now() - (DEMO_SPAN_SECONDS + 60) * 1000);
  const shot = (name: string) =>
    page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  const circles = () => page.locator('#timeline circle.ev[data-seq]').count();
  /** Opens a location of the page and waits until the page has drawn exactly that one. */
  const show = async (hash: string) => {
    await page.goto(`${service.url}/${hash}`);
    await page.locator(`#main[data-rendered="${hash}"]`).waitFor({ state: 'attached' });
  };
  const processHash = (id: string, query = '') => `#/p/${encodeURIComponent(id)}${query}`;
  /**
   * Waits until `selector` matches at least `n` elements (Playwright re-checks as the page
   * changes), then asserts it is exactly `n`. No page-side eval: the page's CSP forbids it.
   */
  const waitForCount = async (selector: string, n: number) => {
    await page
      .locator(selector)
      .nth(n - 1)
      .waitFor({ state: 'attached' });
    expect(await page.locator(selector).count()).toBe(n);
  };

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    ({ local, service, close } = await serveOn('memory:', {
      clock: () => (realTime ? Date.now() : script.read()),
    }));
    await seedDemo(local, script);
    realTime = true;
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    // a script error or a content-security-policy violation shows up here
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(error.message));
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await close?.();
  });

  it('lists the running processes, and all of them with the filter', async () => {
    await show('#/');
    const running = (await local.listNonTerminal()).map((r) => r.id);
    expect(
      await page
        .locator('#process-list tr[data-id]')
        .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id'))),
    ).toEqual(running);
    await page.check('#filter-all');
    await page.click('#filters button');
    const all = (await local.listProcesses({}, { limit: 1000 })).records.map((r) => r.id);
    await waitForCount('#process-list tr[data-id]', all.length);
    await page.fill('#filter-session', 'nobody');
    await page.click('#filters button');
    await page
      .locator('#main[data-rendered="#/?all=1&session=nobody"]')
      .waitFor({ state: 'attached' });
    expect(await page.locator('#empty').count()).toBe(1);
    await show('#/?all=1');
    await waitForCount('#process-list tr[data-id]', all.length);
    await shot('list');
  });

  it('draws a process history: events, wake with its ack, grants and the outcome', async () => {
    await show(processHash(demoIds.researcher));
    expect(await circles()).toBe((await local.eventsAfter(demoIds.researcher, 0)).length);
    expect(await page.locator('#timeline .ack-dot').count()).toBe(1);
    expect(await page.locator('#timeline .span-grant').count()).toBeGreaterThan(0);
    expect(await page.locator('h1 .state').textContent()).toBe('completed');
    expect(await page.locator('#history tbody tr').count()).toBe(
      (await local.history(demoIds.researcher)).length,
    );
    await shot('process-researcher');
    await show(processHash(demoIds.job));
    expect(await page.locator('#timeline .span-lease').count()).toBe(1);
    expect(await page.locator('h1 .state').textContent()).toBe('failed');
    await shot('process-job');
  });

  it('follows a running process live as events arrive', async () => {
    await show(processHash(demoIds.main));
    const before = (await local.eventsAfter(demoIds.main, 0)).length;
    expect(await circles()).toBe(before);
    await page.locator('#status', { hasText: /^live/ }).waitFor();
    await local.appendEvent(demoIds.main, {
      eventType: 'turn.message',
      payload: { role: 'assistant', text: 'one more thing' },
    });
    await waitForCount('#timeline circle.ev[data-seq]', before + 1);
    await shot('process-main-live');
  });

  it('shows the registry as of a past moment, from the control and from the scrubber', async () => {
    const history = await local.history(demoIds.main);
    const appended = history.filter((h) => h.type === 'ProcessEventAppended');
    const moment = appended[1]!.recordedAtMs; // after the second event
    const expected = (await local.asOf(moment).eventsAfter(demoIds.main, 0)).length;
    await show(processHash(demoIds.main, `?asOf=${moment}`));
    expect(await page.locator('#asof-banner').count()).toBe(1);
    // the banner and the timeline are drawn together, from the as-of answers
    expect(await circles()).toBe(expected);
    expect(expected).toBeLessThan((await local.eventsAfter(demoIds.main, 0)).length);
    await shot('process-main-asof');

    // the header control: a moment before anything existed empties the list
    await show('#/?all=1');
    await page.locator('#process-list').waitFor();
    const first = (await local.history(demoIds.main))[0]!.recordedAtMs;
    const local8601 = new Date(first - 60_000 - new Date(first).getTimezoneOffset() * 60_000)
      .toISOString()
      .slice(0, 19);
    await page.fill('#asof', local8601);
    await page.dispatchEvent('#asof', 'change');
    await page.locator('#main[data-rendered*="asOf="]').waitFor({ state: 'attached' });
    expect(await page.locator('#empty').count()).toBe(1);
    expect(await page.locator('#asof-banner').count()).toBe(1);
    await page.click('#live');
    await page.locator('#main[data-rendered="#/?all=1"]').waitFor({ state: 'attached' });
    expect(await page.locator('#process-list tr[data-id]').count()).toBe(
      (await local.listProcesses({}, { limit: 1000 })).records.length,
    );
    expect(await page.locator('#asof-banner').count()).toBe(0);
  });

  it('asks for a token when the service has tokens, then shows only what the token sees', async () => {
    const { token, entry } = newToken('agent-other', { sessions: ['other-session'] });
    const guarded = await startService({
      registry: local,
      port: 0,
      tokens: new TokenTable({ tokens: [entry] }),
      logger: quietLogger(),
    });
    await local.registerProcess({
      id: 'other:job',
      input: { type: 'job' },
      provenance: { ownerScope: { sessionId: 'other-session' }, hostProfileId: 'h' },
    });
    const fresh = await browser.newPage({ viewport: { width: 1280, height: 500 } });
    fresh.on('pageerror', (error) => consoleErrors.push(error.message));
    try {
      await fresh.goto(`${guarded.url}/#/`);
      await fresh.locator('#main[data-rendered="#/"]').waitFor({ state: 'attached' });
      expect(await fresh.locator('#error').textContent()).toContain('missing bearer token');
      await fresh.locator('#whoami', { hasText: 'token needed' }).waitFor();
      await fresh.fill('#token', token);
      await fresh.press('#token', 'Enter');
      await fresh.locator('#process-list tr[data-id]').first().waitFor();
      expect(
        await fresh
          .locator('#process-list tr[data-id]')
          .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id'))),
      ).toEqual(['other:job']);
      await fresh.locator('#whoami', { hasText: 'agent-other (other-session)' }).waitFor();
      // another session's process is not there, exactly like an unknown one
      await fresh.goto(`${guarded.url}/#/p/${encodeURIComponent(demoIds.main)}`);
      await fresh
        .locator(`#main[data-rendered="#/p/${encodeURIComponent(demoIds.main)}"]`)
        .waitFor({ state: 'attached' });
      expect(await fresh.locator('#error').textContent()).toContain(
        `unknown process \`${demoIds.main}\``,
      );
    } finally {
      await fresh.close();
      await guarded.close();
    }
  });

  it('ran every page without a script error or a policy violation', () => {
    expect(consoleErrors).toEqual([]);
  });
});
