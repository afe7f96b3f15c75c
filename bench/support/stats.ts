/**
 * Statistics and formatting shared by the benchmarks. Machines are noisy (DESIGN.md, "Performance
 * method"): every figure is repeated and quoted as "median (min–max)".
 */

export interface Summary {
  readonly n: number;
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** The repetitions, in the order they were measured. */
  readonly values: readonly number[];
}

function sortedCopy(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

/** Median; the mean of the two middle values for an even count. NaN for no values. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = sortedCopy(values);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Nearest-rank percentile (0 < p ≤ 100) of values already sorted in ascending order: the smallest
 * value with at least p % of the values at or below it. NaN for no values.
 */
export function percentileOfSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** Nearest-rank percentile of unsorted values (sorts a copy). */
export function percentile(values: readonly number[], p: number): number {
  return percentileOfSorted(sortedCopy(values), p);
}

/** Sorts in place (cheaper than a copy for large latency arrays) and returns the requested percentiles. */
export function percentilesInPlace(values: number[], ps: readonly number[]): number[] {
  values.sort((a, b) => a - b);
  return ps.map((p) => percentileOfSorted(values, p));
}

export function summarize(values: readonly number[]): Summary {
  return {
    n: values.length,
    median: median(values),
    min: values.length === 0 ? Number.NaN : Math.min(...values),
    max: values.length === 0 ? Number.NaN : Math.max(...values),
    values: [...values],
  };
}

/** `12,345` for large values, more decimals for small ones (`3.2`, `0.41`); `-` for NaN. */
export function formatNumber(value: number, decimals?: number): string {
  if (!Number.isFinite(value)) return '-';
  const d = decimals ?? (Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2);
  return value.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
}

/** `median (min–max)`, or just the value when there was one repetition. */
export function formatSummary(s: Summary, decimals?: number): string {
  const m = formatNumber(s.median, decimals);
  if (s.n <= 1) return m;
  return `${m} (${formatNumber(s.min, decimals)}–${formatNumber(s.max, decimals)})`;
}

/** A ratio as `0.42×`, with its spread over repetitions. */
export function formatRatio(s: Summary): string {
  const f = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)}×` : '-');
  if (s.n <= 1) return f(s.median);
  return `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
}

/** A Markdown table with padded columns: readable in a terminal, pasteable into a report. */
export function markdownTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => `| ${widths.map((w, i) => (cells[i] ?? '').padEnd(w)).join(' | ')} |`;
  const rule = `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`;
  return [line(headers), rule, ...rows.map(line)].join('\n');
}

/** Parses the rows of a table printed by `markdownTable` back into cells (for tests and scripts). */
export function parseMarkdownTable(text: string): string[][] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('|') && !/^\|[-|\s]+\|$/.test(l))
    .map((l) =>
      l
        .slice(1, -1)
        .split('|')
        .map((c) => c.trim()),
    );
}

/** A measured cell whose runs against OpenCTS and against bare Fastify may have failed requests. */
export interface CellWithErrorSamples {
  readonly connections: number;
  readonly opencts: ReadonlyArray<{ readonly errorSamples: Readonly<Record<string, number>> }>;
  readonly bareFastify: ReadonlyArray<{ readonly errorSamples: Readonly<Record<string, number>> }>;
}

/** The `ERRORS (n):` section a benchmark prints after its tables; no lines when nothing failed. */
export function errorSection(cells: readonly CellWithErrorSamples[], totalErrors: number): string[] {
  const failures = new Map<string, number>();
  for (const c of cells) {
    for (const [who, runs] of [
      ['OpenCTS', c.opencts],
      ['bare Fastify', c.bareFastify],
    ] as const) {
      for (const r of runs) {
        for (const [k, n] of Object.entries(r.errorSamples)) {
          const key = `${who}, ${c.connections} conns: ${k}`;
          failures.set(key, (failures.get(key) ?? 0) + n);
        }
      }
    }
  }
  if (failures.size === 0) return [];
  return ['', `ERRORS (${totalErrors}):`, ...[...failures].map(([k, n]) => `  ${n} × ${k}`)];
}
