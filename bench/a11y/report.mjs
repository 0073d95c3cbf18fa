// The table (and what lost points) from audit.mjs's results, as Markdown on stdout, for
// bench/a11y.sh: `node report.mjs results.json HOME_GZIP_BYTES DATE`. Exit 1 when a target is
// missed: accessibility 100 and 0 axe violations; performance, best practices and SEO >= 95;
// the home page at most 10 KB (10,240 bytes) over the wire with gzip.
import { readFileSync } from 'node:fs';

const [file, homeBytes, date] = process.argv.slice(2);
const { lighthouseVersion, axeVersion, chromeVersion, results } = JSON.parse(readFileSync(file, 'utf8'));
const HOME_LIMIT = 10 * 1024;
const cell = (s) => String(s ?? '').replace(/\|/g, '\\|').replace(/\s+/g, ' ').trim();
const code = (s) => '`' + cell(s).replace(/`/g, "'") + '`';
const short = (s, n = 160) => (s && s.length > n ? s.slice(0, n) + '…' : s);

let missed = 0;
const mark = (ok, text) => {
  if (!ok) missed += 1;
  return ok ? `${text}` : `**${text}** ✗`;
};
const lines = [];
const runCount = Math.max(...results.map((r) => r.runs?.length ?? 1));
lines.push(`Run ${date}: Lighthouse ${lighthouseVersion} (mobile), axe-core ${axeVersion}, ${chromeVersion}; `
  + `${runCount} cold load(s) of each page: performance is the median run's (every run's in brackets), `
  + 'the other columns the worst run\'s.', '');
lines.push('| Page | URL pattern | Performance | Accessibility | Best practices | SEO | axe violations |');
lines.push('|---|---|---:|---:|---:|---:|---|');
for (const r of results) {
  const s = r.scores;
  if (!s || r.error) {
    missed += 1;
    lines.push(`| ${cell(r.name)} | ${code(r.pattern)} | — | — | — | — | **error** ✗ |`);
    continue;
  }
  const at = (v, min, text = v ?? 'n/a') => mark(v !== null && v >= min, text);
  // Performance: the median run, with every run's score. The other categories and axe: the
  // worst of the runs, so that no run's miss is hidden by the median.
  const runs = r.runs ?? [{ scores: s, axe: (r.axe ?? []).map((v) => v.id) }];
  const worst = (c) => Math.min(...runs.map((x) => x.scores?.[c] ?? -1));
  const perfText = runs.length > 1 ? `${s.performance} (${runs.map((x) => x.scores?.performance ?? '—').join(', ')})` : s.performance;
  const axeIds = [...new Set(runs.flatMap((x) => x.axe ?? []))];
  const axeCell = axeIds.length === 0 ? '0' : mark(false, `${axeIds.length}: ${axeIds.join(', ')}`);
  lines.push(`| ${cell(r.name)} | ${code(r.pattern)} | ${at(s.performance, 95, perfText)} | ${at(worst('accessibility'), 100)} | `
    + `${at(worst('best-practices'), 95)} | ${at(worst('seo'), 95)} | ${axeCell} |`);
}
const home = Number(homeBytes);
const homeWeight = results.find((r) => r.pattern === '/')?.totalByteWeight;
lines.push('');
lines.push(`Home page over the wire with gzip (the HTML document, \`curl -H 'Accept-Encoding: gzip'\`): `
  + mark(home > 0 && home <= HOME_LIMIT, `${home.toLocaleString('en')} bytes`) + ` (target ≤ ${HOME_LIMIT.toLocaleString('en')}).`
  + (homeWeight ? ` Everything the page loads, as Lighthouse counts it (total-byte-weight): ${Math.round(homeWeight).toLocaleString('en')} bytes.` : ''));
lines.push('');
lines.push(missed === 0 ? 'Every target is met.' : `**${missed} target(s) missed.**`);

// What lost points, page by page: the audit or rule, the element and the message.
const detail = [];
for (const r of results) {
  const out = [];
  if (r.error) out.push(`- error: ${code(short(r.error.split('\n')[0], 300))}`);
  if (r.status) out.push(`- ${r.status} (final URL ${code(r.finalUrl)})`);
  for (const [category, audits] of Object.entries(r.lost ?? {})) {
    // A metric a little under 1 that still rounds to 100 lost no point of the score.
    if (r.scores?.[category] === 100) continue;
    for (const a of audits) {
      if (a.score === null && !a.items?.length) continue;
      const head = `- ${category}: \`${a.id}\` (${a.title}, ${a.weight ? `weight ${a.weight}` : 'diagnostic, no weight'}, score ${a.score ?? 'n/a'}`
        + `${a.displayValue ? `, ${cell(a.displayValue)}` : ''})${a.explanation ? `: ${cell(short(a.explanation, 300))}` : ''}`;
      out.push(head);
      for (const i of a.items ?? []) {
        const indent = i.nested ? '    - ' : '  - ';
        const extra = [i.shift !== undefined ? `shift ${i.shift}` : '', i.ms ? `${i.ms} ms` : '',
          i.cause ? `cause: ${cell(i.cause)}` : ''].filter(Boolean).join(', ');
        const tail = (extra ? ` (${extra})` : '') + (i.explanation ? ` — ${cell(short(i.explanation, 300))}` : '');
        if (i.selector || i.snippet) {
          out.push(`${indent}${code(i.selector)} ${code(short(i.snippet))}${tail}`);
        } else if (i.url) {
          out.push(`${indent}${code(i.url)}${tail}`);
        } else if (i.text) {
          out.push(`${indent}${cell(short(i.text, 300))}${tail}`);
        }
      }
    }
  }
  for (const v of r.axe ?? []) {
    out.push(`- axe: \`${v.id}\` (${v.impact}): ${cell(v.help)}`);
    for (const n of v.nodes.slice(0, 10)) {
      out.push(`  - ${code(n.target)} ${code(short(n.html))} — ${cell(short(n.failureSummary, 300))}`);
    }
  }
  if (out.length) detail.push(`${r.name} (${code(r.pattern)}):`, '', ...out, '');
}
if (detail.length) {
  lines.push('', '### What lost points', '', ...detail);
}
process.stdout.write(lines.join('\n').replace(/\n+$/, '') + '\n');
process.exit(missed === 0 ? 0 : 1);
