// contrib/grafana/f2b-sophosxg.json may only query what the sidecar exports: the metric names are
// parsed out of every PromQL expression and compared with a live registry of createMetrics().
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createMetrics, PREFIX } from '../../src/metrics/metrics.js';

const FILE = fileURLToPath(new URL('../../contrib/grafana/f2b-sophosxg.json', import.meta.url));

interface Panel {
  title?: string;
  type?: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}
interface Dashboard {
  panels: Panel[];
  templating: { list: { name: string; query?: string | { query?: string } }[] };
}

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'offset',
  'bool',
  'and',
  'or',
  'unless',
  'inf',
  'nan',
]);

/**
 * Metric names in a PromQL expression: identifiers that are not functions (followed by "("),
 * keywords, label names (inside {…} or the label list of by/without/on/ignoring/group_*),
 * durations ([…]), strings or dashboard variables.
 */
function metricNames(expr: string): string[] {
  const s = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\$\{[^}]*\}|\$\w+/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const m of s.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const after = s.slice((m.index ?? 0) + m[0].length);
    if (/^\s*\(/.test(after) || KEYWORDS.has(m[0].toLowerCase())) continue;
    // The tail of a number or duration (1e3, offset 5m).
    if (/[0-9.]$/.test(s.slice(0, m.index))) continue;
    names.add(m[0]);
  }
  return [...names];
}

/** Every series name the registry can produce: histograms add _bucket/_sum/_count. */
async function exportedNames(): Promise<Set<string>> {
  const metrics = createMetrics({ version: 'test', processMetrics: true });
  const names = new Set<string>();
  for (const m of await metrics.registry.getMetricsAsJSON()) {
    names.add(m.name);
    const type = String(m.type);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(m.name + s);
    if (type === 'summary') for (const s of ['_sum', '_count']) names.add(m.name + s);
  }
  return names;
}

function flatten(panels: Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...flatten(p.panels ?? [])]);
}

const dashboard = JSON.parse(readFileSync(FILE, 'utf8')) as Dashboard;
const panels = flatten(dashboard.panels);
const queries = [
  ...panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr ?? '' }))),
  ...dashboard.templating.list.map((v) => {
    const q = typeof v.query === 'string' ? v.query : (v.query?.query ?? '');
    // label_values(metric, label): only the first argument is a metric (or a selector).
    const lv = /^label_values\(\s*([^,]*),/.exec(q);
    return { where: `variable $${v.name}`, expr: lv ? (lv[1] ?? '') : /^(query_result|metrics)\(/.test(q) ? q : '' };
  }),
].filter((q) => q.expr !== '' && q.expr !== 'prometheus');

describe('the PromQL name extraction', () => {
  it('finds metrics and skips functions, keywords, labels, durations, strings and variables', () => {
    expect(
      metricNames(
        'histogram_quantile(0.95, sum by (le, op) (rate(a_bucket{instance=~"$instance", x="b_c"}[$__rate_interval]))) / on(job) group_left(version) b_info offset 5m > bool 1e3',
      ).sort(),
    ).toEqual(['a_bucket', 'b_info']);
    expect(metricNames('time() - last_ts{instance=~"$instance"}')).toEqual(['last_ts']);
    expect(metricNames('sum without (op) (rate(x_total[5m])) or vector(0)')).toEqual(['x_total']);
  });
});

describe('contrib/grafana/f2b-sophosxg.json', () => {
  it('has queries in every non-row panel', () => {
    const graphs = panels.filter((p) => p.type !== 'row');
    expect(graphs.length).toBeGreaterThan(5);
    for (const p of graphs)
      expect(
        p.targets?.some((t) => (t.expr ?? '') !== ''),
        p.title,
      ).toBe(true);
  });

  it('every query names only metrics the sidecar exports', async () => {
    const exported = await exportedNames();
    const unknown = queries.flatMap((q) =>
      metricNames(q.expr)
        .filter((n) => !exported.has(n))
        .map((n) => `${q.where}: ${n}`),
    );
    expect(unknown).toEqual([]);
    expect(queries.every((q) => metricNames(q.expr).length > 0)).toBe(true);
  });

  it("every one of the sidecar's own metrics is on the dashboard", async () => {
    const exported = await exportedNames();
    const used = new Set(queries.flatMap((q) => metricNames(q.expr)));
    const own = [...exported].filter((n) => n.startsWith(PREFIX) && !/_(sum|count)$/.test(n));
    // A histogram counts as shown through its buckets.
    const missing = own.filter((n) => !used.has(n) && !used.has(`${n}_bucket`) && !(n.endsWith('_bucket') && used.has(n)));
    expect(own.length).toBeGreaterThan(10);
    expect(missing).toEqual([]);
  });

  it('a name the sidecar does not export is caught (control)', async () => {
    const exported = await exportedNames();
    expect(metricNames(`rate(${PREFIX}bans_total[5m])`).filter((n) => !exported.has(n))).toEqual([`${PREFIX}bans_total`]);
  });
});
