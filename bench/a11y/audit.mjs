// Lighthouse (mobile, default config) and axe-core on each page of a list, in Debian's
// Chromium through puppeteer-core, for bench/a11y.sh:
//
//   node audit.mjs pages.json results.json
//
// pages.json: [{name, pattern, url, cookies: [{name, value, path}], form?: {fill: {selector:
// value}, submit: selector}}]. Each page gets a browser context of its own (no cache, no
// cookies but its own). A page with `form` is loaded first (not measured), filled in, the
// browser cache cleared, and the navigation its submit button triggers (a POST) is what
// Lighthouse measures. axe-core then runs on the page Lighthouse loaded, with the rules
// `axe.run()` runs by default (as @axe-core/cli does). results.json gets the scores, every
// audit that lost points and every axe violation, with their elements.
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import puppeteer from 'puppeteer-core';
import { startFlow } from 'lighthouse';

const require = createRequire(import.meta.url);
const axeSource = require('axe-core').source;
const axeVersion = require('axe-core/package.json').version;
const lighthouseVersion = require('lighthouse/package.json').version;

const [pagesFile, outFile] = process.argv.slice(2);
// A11Y_ONLY (a regex on the page names) audits only some pages, e.g. while fixing one.
const only = process.env.A11Y_ONLY ? new RegExp(process.env.A11Y_ONLY, 'i') : null;
const pages = JSON.parse(readFileSync(pagesFile, 'utf8')).filter((p) => !only || only.test(p.name));
const chrome = process.env.CHROME_PATH || '/usr/bin/chromium';
const profile = mkdtempSync(join(tmpdir(), 'tern-a11y-chromium-'));
const CATEGORIES = ['performance', 'accessibility', 'best-practices', 'seo'];

const browser = await puppeteer.launch({
  executablePath: chrome,
  headless: true, // --headless=new
  userDataDir: profile,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
const chromeVersion = await browser.version();

/** The elements (or URLs) an audit's details name, as short strings. */
function items(details) {
  const out = [];
  for (const item of details?.items ?? []) {
    const node = item.node ?? (item.source?.type === 'node' ? item.source : null)
      ?? (item.extra?.type === 'node' ? item.extra : null);
    const extra = {
      ...(item.score !== undefined && typeof item.score === 'number' ? { shift: Number(item.score.toFixed(3)) } : {}),
      ...(item.duration ? { ms: Math.round(item.duration) } : {}),
      ...(item.wastedMs ? { ms: Math.round(item.wastedMs) } : {}),
      ...(item.cause ? { cause: String(item.cause) } : {}),
    };
    if (node) {
      out.push({ selector: node.selector, snippet: node.snippet, explanation: node.explanation || undefined, ...extra });
    } else if (item.url || item.source?.url || item.extra?.url) {
      out.push({ url: item.url || item.source?.url || item.extra.url, ...extra });
    } else if (item.description || item.label || item.cause) {
      out.push({ text: item.description || item.label || item.cause });
    }
    // Nested tables (a layout shift's causes, an inspector issue's requests) have their own items.
    if (item.subItems) out.push(...items(item.subItems).map((i) => ({ ...i, nested: true })));
  }
  return out.slice(0, 12);
}

// For a performance metric that lost points, the diagnostics that show why.
const WHY = {
  'cumulative-layout-shift': ['layout-shifts'],
  'total-blocking-time': ['long-tasks', 'bootup-time'],
  'largest-contentful-paint': ['largest-contentful-paint-element', 'render-blocking-resources'],
  'first-contentful-paint': ['render-blocking-resources'],
  'speed-index': [],
};

/** Every scored audit of a category that lost points, with what it points at. */
function lost(lhr, category) {
  const out = [];
  for (const ref of lhr.categories[category].auditRefs) {
    const audit = lhr.audits[ref.id];
    if (ref.weight > 0 && audit.score !== null && audit.score < 1) {
      out.push({
        id: ref.id,
        title: audit.title,
        score: audit.score,
        weight: ref.weight,
        displayValue: audit.displayValue,
        explanation: audit.explanation,
        items: category === 'performance' ? [] : items(audit.details),
      });
    }
  }
  if (category === 'performance' && out.length) {
    // Only the metrics weigh; these explain what they lost. Diagnostics have no weight (0).
    const shown = new Set(out.map((a) => a.id));
    const add = (audit) => {
      if (!audit || shown.has(audit.id)) return;
      shown.add(audit.id);
      out.push({ id: audit.id, title: audit.title, score: audit.score, weight: 0, displayValue: audit.displayValue,
        items: items(audit.details) });
    };
    for (const metric of [...out]) for (const id of WHY[metric.id] ?? []) add(lhr.audits[id]);
    for (const audit of Object.values(lhr.audits)) {
      if (audit.score !== null && audit.score < 0.9 && audit.details && audit.scoreDisplayMode !== 'informative'
          && (audit.details.type === 'opportunity' || audit.metricSavings)
          && !lhr.categories.performance.auditRefs.some((r) => r.id === audit.id && r.weight > 0)) add(audit);
    }
  }
  return out;
}

/** One cold load of a page: Lighthouse, then axe-core on what it loaded. */
async function auditOnce(spec) {
  const started = Date.now();
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  const result = { name: spec.name, pattern: spec.pattern, url: spec.url };
  try {
    const origin = new URL(spec.url).origin;
    if (spec.cookies?.length) {
      await page.setCookie(...spec.cookies.map((c) => ({
        name: c.name, value: c.value, url: origin + (c.path || '/'), path: c.path || '/', httpOnly: true,
      })));
    }
    const flow = await startFlow(page, { name: spec.name });
    // Cookies set above must survive: Lighthouse's storage reset would clear them, so the
    // cold load comes from a fresh context plus a cleared HTTP cache instead.
    const flags = { disableStorageReset: true };
    if (spec.form) {
      await page.goto(spec.url, { waitUntil: 'load' });
      for (const [selector, value] of Object.entries(spec.form.fill ?? {})) {
        await page.$eval(selector, (el) => { el.value = ''; });
        await page.type(selector, value);
      }
      const cdp = await page.createCDPSession();
      await cdp.send('Network.clearBrowserCache');
      await cdp.detach();
      // The answer is the form again with its messages (200, `FORM_REFUSED`); any other status
      // would show in the table as "bad HTTP status" and lose the http-status-code audit.
      await flow.navigate(async () => { await page.click(spec.form.submit); }, { ...flags, ignoreStatusCode: true });
    } else {
      const cdp = await page.createCDPSession();
      await cdp.send('Network.clearBrowserCache');
      await cdp.detach();
      await flow.navigate(spec.url, flags);
    }
    const lhr = (await flow.createFlowResult()).steps[0].lhr;
    result.finalUrl = lhr.finalDisplayedUrl;
    result.status = lhr.audits['http-status-code']?.score === 0 ? 'bad HTTP status' : undefined;
    if (lhr.runtimeError) result.error = `${lhr.runtimeError.code}: ${lhr.runtimeError.message}`;
    result.scores = Object.fromEntries(CATEGORIES.map((c) => [c,
      lhr.categories[c].score === null ? null : Math.round(lhr.categories[c].score * 100)]));
    result.lost = Object.fromEntries(CATEGORIES.map((c) => [c, lost(lhr, c)]));
    result.totalByteWeight = lhr.audits['total-byte-weight']?.numericValue;
    result.warnings = lhr.runWarnings;
    result.title = await page.title();
    result.heading = await page.$eval('h1', (h) => h.textContent.trim()).catch(() => null);

    await page.evaluate(axeSource);
    const axe = await page.evaluate(async () => {
      // eslint-disable-next-line no-undef
      const r = await axe.run(document, { resultTypes: ['violations'] });
      return r.violations.map((v) => ({
        id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
        nodes: v.nodes.map((n) => ({ target: n.target.join(' '), html: n.html, failureSummary: n.failureSummary })),
      }));
    });
    result.axe = axe;
  } catch (e) {
    result.error = String(e?.stack || e);
  } finally {
    await context.close().catch(() => {});
  }
  result.seconds = Math.round((Date.now() - started) / 1000);
  const s = result.scores || {};
  console.error(`a11y: ${spec.name}: perf ${s.performance} a11y ${s.accessibility} bp ${s['best-practices']} `
    + `seo ${s.seo} axe ${result.axe?.length ?? '?'} (${result.seconds} s)${result.error ? ` ERROR ${result.error}` : ''}`);
  return result;
}

// Lighthouse's performance score varies from load to load (its advice: several runs, take the
// median), the more so on two shared cores: each page is loaded A11Y_RUNS times (3 by default)
// and the run with the median performance score is the one reported; every run's scores are
// kept in `runs`.
const RUNS = Math.max(1, Number(process.env.A11Y_RUNS || 3));
const results = [];
for (const spec of pages) {
  const runs = [];
  for (let i = 0; i < RUNS; i += 1) runs.push(await auditOnce(spec));
  const ranked = [...runs].sort((a, b) => (a.scores?.performance ?? -1) - (b.scores?.performance ?? -1));
  const median = ranked[Math.floor((ranked.length - 1) / 2)];
  median.runs = runs.map((r) => ({ scores: r.scores, error: r.error, axe: (r.axe ?? []).map((v) => v.id) }));
  results.push(median);
}
await browser.close();
rmSync(profile, { recursive: true, force: true });
writeFileSync(outFile, JSON.stringify({ lighthouseVersion, axeVersion, chromeVersion, results }, null, 2));
