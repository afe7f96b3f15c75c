/** Output helpers shared by the commands: aligned tables for people, JSON for scripts. */
import { InvalidArgumentError } from 'commander';
import { durationMs } from '../core/duration.js';

export function table(rows: ReadonlyArray<Record<string, string>>): string {
  if (rows.length === 0) return '(none)';
  const keys = Object.keys(rows[0]!);
  const widths = keys.map((k) => Math.max(k.length, ...rows.map((r) => (r[k] ?? '').length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(keys), ...rows.map((r) => line(keys.map((k) => r[k] ?? '')))].join('\n');
}

/** `90s`, `15m`, `2h`, `7d` → milliseconds. */
export function parseDuration(value: string): number {
  const ms = durationMs(value);
  if (ms === undefined) throw new InvalidArgumentError('expected a duration such as 90s, 15m, 2h or 7d');
  return ms;
}

/** An instant as epoch milliseconds or ISO-8601 text. */
export function parseInstant(value: string): number {
  if (/^\d+$/.test(value)) return Number(value);
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new InvalidArgumentError('expected epoch milliseconds or an ISO-8601 time');
  return ms;
}

export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}
