/**
 * PostgreSQL text cannot hold U+0000 (SQLite can), and ingest bodies and query strings can carry
 * it (`\u0000` in JSON, `%00` in a URL). Every string bound to a statement has it replaced by
 * U+FFFD, on the way in and in every lookup alike, so a value with a NUL is stored and found
 * instead of failing the write or the query. The wire JSON keeps the exact value (JSON escapes
 * U+0000), so only the indexed columns see the replacement.
 */
import type pg from 'pg';

function clean(value: unknown): unknown {
  if (typeof value === 'string') return value.includes('\u0000') ? value.replaceAll('\u0000', '\uFFFD') : value;
  if (Array.isArray(value))
    return value.some((v) => typeof v === 'string' && v.includes('\u0000')) ? value.map(clean) : value;
  return value;
}

export function pgSafe(config: pg.QueryConfig): pg.QueryConfig {
  return config.values ? { ...config, values: config.values.map(clean) } : config;
}
