/**
 * Clocks. Traces carry the recording instance's time; AK/SK signatures are accepted within 15
 * minutes of it; PostgreSQL leases expire by the database's clock. So an instance clock that is
 * wrong, or far from the database's, is worth a warning long before it breaks anything.
 */
import type { SchemaProbe } from '../store/schema-probe.js';
import { fail, ok, warn, type CheckResult } from './check.js';

export const SKEW_WARN_MS = 1000;
export const SKEW_FAIL_MS = 15_000;
/** Earlier than this, the clock was never set (OpenCTS did not exist yet). */
const EARLIEST_PLAUSIBLE = Date.UTC(2024, 0, 1);
const LATEST_PLAUSIBLE = Date.UTC(2100, 0, 1);
/** Newest trace this far ahead of now: the clock went back (or another instance's is ahead). */
const FUTURE_TRACE_MS = 60_000;

const FIX = 'synchronise the clocks of every instance and the database host (NTP: chrony or systemd-timesyncd)';

export function checkLocalClock(now: number, newestRecordTime: number | undefined): CheckResult {
  const iso = new Date(now).toISOString();
  if (now < EARLIEST_PLAUSIBLE || now >= LATEST_PLAUSIBLE) {
    return fail('clock', `the system clock says ${iso}, which cannot be right`, FIX);
  }
  if (newestRecordTime !== undefined && newestRecordTime - now > FUTURE_TRACE_MS) {
    return warn(
      'clock',
      `the newest trace was recorded at ${new Date(newestRecordTime).toISOString()}, ${Math.round(
        (newestRecordTime - now) / 1000,
      )} s after this clock's ${iso}: was the clock set back?`,
      FIX,
    );
  }
  return ok('clock', `system clock ${iso}`);
}

export function checkDatabaseClock(clock: NonNullable<SchemaProbe['clock']>): CheckResult {
  const skew = clock.dbMs - clock.localMs;
  const margin = clock.roundTripMs / 2;
  // Only what the round trip cannot explain counts.
  const beyond = Math.max(0, Math.abs(skew) - margin);
  const text = `the database clock is ${(Math.abs(skew) / 1000).toFixed(3)} s ${skew >= 0 ? 'ahead of' : 'behind'} this host's (± ${(margin / 1000).toFixed(3)} s)`;
  if (beyond > SKEW_FAIL_MS) {
    return fail('db-clock', `${text}: AK/SK signatures and lease expiry will misjudge time`, FIX);
  }
  if (beyond > SKEW_WARN_MS) return warn('db-clock', text, FIX);
  return ok('db-clock', text);
}
