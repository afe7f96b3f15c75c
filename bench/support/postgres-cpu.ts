/**
 * CPU of the PostgreSQL backends serving one database, when the server runs on this machine: what
 * a benchmark reads to tell whether the database, rather than OpenCTS, was the saturated side.
 */
import type pg from 'pg';
import { processCpuSeconds } from './child-server.js';

/** CPU seconds so far of each backend connected to `database`. */
export async function backendCpu(pool: pg.Pool, database: string): Promise<Map<number, number>> {
  const { rows } = await pool.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [database]);
  return new Map(rows.map((r) => [r.pid, processCpuSeconds(r.pid)]));
}

/** Backend CPU between two snapshots (a backend gone before the second is missed; pools keep theirs). */
export function cpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let seconds = 0;
  for (const [pid, cpu] of after) if (Number.isFinite(cpu)) seconds += cpu - (before.get(pid) ?? 0);
  return seconds;
}
