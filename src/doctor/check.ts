/** What one `opencts doctor` check found. Names are stable: scripts read `--json`. */
export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  /** `config`, `store`, `migrations`, `master-key`, `secrets`, `signing-key`, `object-store`, `buckets`, `trackers`, `delivery-lag`, `clock`, `db-clock`. */
  readonly name: string;
  readonly status: CheckStatus;
  /** One line: what was found. */
  readonly reason: string;
  /** One line: what to do about it (not for `ok`). */
  readonly fix?: string;
  /** One line per item (tracker, bucket) when the check looked at several. */
  readonly details?: readonly string[];
}

export function ok(name: string, reason: string, details?: readonly string[]): CheckResult {
  return { name, status: 'ok', reason, ...(details && details.length > 0 ? { details } : {}) };
}

export function warn(name: string, reason: string, fix: string, details?: readonly string[]): CheckResult {
  return { name, status: 'warn', reason, fix, ...(details && details.length > 0 ? { details } : {}) };
}

export function fail(name: string, reason: string, fix: string, details?: readonly string[]): CheckResult {
  return { name, status: 'fail', reason, fix, ...(details && details.length > 0 ? { details } : {}) };
}

/** A check that could not run because an earlier one failed: a warning, never a pass. */
export function notChecked(name: string, because: string): CheckResult {
  return warn(name, `not checked: ${because}`, 'fix the failed check above first');
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** `0644` */
export function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8).padStart(3, '0')}`;
}
