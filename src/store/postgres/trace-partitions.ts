/**
 * The day partitions of the traces table (range on record_time, UTC days). The store creates
 * them ahead of time and on demand, and the retention purge drops whole expired days: one
 * catalog change instead of deleting and vacuuming every row. All changes happen under the
 * trace lock (LOCK_KEYS.traces), so instances never race on the same partition.
 */
import type { PgTransaction } from './pg-group-commit.js';

export const PARTITION_MS = 24 * 60 * 60 * 1000;
/** Days created beyond today, so midnight never waits for a CREATE TABLE. */
export const DAYS_AHEAD = 2;

export function dayOf(recordTime: number): number {
  return Math.floor(recordTime / PARTITION_MS);
}

export function partitionName(day: number): string {
  return `traces_p${new Date(day * PARTITION_MS).toISOString().slice(0, 10).replaceAll('-', '')}`;
}

/** The day of a partition name made by partitionName, or undefined for any other table. */
export function dayOfPartition(name: string): number | undefined {
  const m = /^traces_p(\d{4})(\d{2})(\d{2})$/.exec(name);
  if (!m) return undefined;
  return dayOf(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
}

/** The days that have a partition, oldest first, as this transaction sees the catalog. */
export async function listPartitionDays(tx: Pick<PgTransaction, 'read'>): Promise<number[]> {
  const rows = await tx.read<{ name: string }>({
    name: 'list-trace-partitions',
    text: `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent = 'traces'::regclass`,
  });
  return rows.rows
    .map((r) => dayOfPartition(r.name))
    .filter((d): d is number => d !== undefined)
    .sort((a, b) => a - b);
}

export async function createPartition(tx: PgTransaction, day: number): Promise<void> {
  const from = day * PARTITION_MS;
  await tx.write({
    text: `CREATE TABLE IF NOT EXISTS ${partitionName(day)} PARTITION OF traces
           FOR VALUES FROM (${from}) TO (${from + PARTITION_MS})`,
  });
}

export async function dropPartition(tx: PgTransaction, day: number): Promise<void> {
  await tx.write({ text: `DROP TABLE IF EXISTS ${partitionName(day)}` });
}
