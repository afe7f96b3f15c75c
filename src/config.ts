/**
 * One typed configuration, resolved from (highest first) command-line flags, environment
 * variables, a JSON config file, and defaults that suit the embedded mode.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { durationMs } from './core/duration.js';

export const DURABILITY_LEVELS = ['normal', 'full'] as const;
export type Durability = (typeof DURABILITY_LEVELS)[number];

export const ConfigSchema = Type.Object({
  dataDir: Type.String({ minLength: 1 }),
  host: Type.String({ minLength: 1 }),
  port: Type.Integer({ minimum: 0, maximum: 65535 }),
  /** Region name used in bucket locations and trace file names. */
  region: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' }),
  logLevel: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l))),
  /**
   * SQLite `synchronous`: `normal` survives a process crash (the WAL is written before a commit is
   * acknowledged) but may lose the last commits on power loss; `full` fsyncs every commit.
   */
  durability: Type.Union(DURABILITY_LEVELS.map((d) => Type.Literal(d))),
  /** How long traces stay queryable (CTS keeps 7 days). */
  retentionDays: Type.Number({ exclusiveMinimum: 0, maximum: 3650 }),
  /** Addresses of reverse proxies whose X-Forwarded-For is believed (IPs or CIDRs); none by default. */
  trustedProxies: Type.Array(Type.String({ minLength: 1 })),
  /** Failed authentications allowed per minute from one address, and for one access key. */
  authFailuresPerMinute: Type.Integer({ minimum: 1 }),
  /** How often each tracker's new traces are written to its bucket (1 s to 1 h; CTS: minutes). */
  flushIntervalMs: Type.Integer({ minimum: 1000, maximum: 3_600_000 }),
  /** Digest period of trackers with is_support_validate (60 s to 1 day; CTS: 1 hour). */
  digestIntervalMs: Type.Integer({ minimum: 60_000, maximum: 86_400_000 }),
  /** Also POST each LTS dump batch (NDJSON) to this URL. */
  ltsHttpEndpoint: Type.Optional(Type.String({ pattern: '^https?://' })),
  /**
   * Where the state lives: `sqlite` (the file opencts.db in the data dir, the embedded default) or
   * `postgres://user:password@host:port/database` (shared by several instances).
   */
  store: Type.String({ pattern: '^(sqlite|postgres(ql)?://.+)$' }),
  /** `fs` (buckets are folders under the data dir) or `s3://[host:port]` (any S3-compatible store). */
  objectStore: Type.String({ pattern: '^(fs|s3://.*)$' }),
  s3Endpoint: Type.Optional(Type.String({ pattern: '^https?://' })),
  s3Region: Type.Optional(Type.String({ minLength: 1 })),
  s3ForcePathStyle: Type.Optional(Type.Boolean()),
  s3AccessKeyId: Type.Optional(Type.String({ minLength: 1 })),
  s3SecretAccessKey: Type.Optional(Type.String({ minLength: 1 })),
  /** PEM files: when both are set the service speaks HTTPS only. */
  tlsCert: Type.Optional(Type.String({ minLength: 1 })),
  tlsKey: Type.Optional(Type.String({ minLength: 1 })),
  /** Request bodies above this are refused; AK/SK-signed calls are limited to 12 MB by CTS. */
  bodyLimitBytes: Type.Integer({ minimum: 1024 }),
  /** JSON file of auditable operations that ListOperations lists besides those seen in traces. */
  operationsCatalogue: Type.Optional(Type.String({ minLength: 1 })),
  /** First wait before a failed notification webhook is retried; each further wait doubles (5 attempts). */
  notifyRetryBaseMs: Type.Integer({ minimum: 1, maximum: 600_000 }),
});

export type Config = Static<typeof ConfigSchema>;

export const DEFAULT_CONFIG: Config = {
  dataDir: './data',
  host: '127.0.0.1',
  port: 8080,
  region: 'local-1',
  logLevel: 'info',
  durability: 'normal',
  retentionDays: 7,
  trustedProxies: [],
  authFailuresPerMinute: 60,
  flushIntervalMs: 60_000,
  store: 'sqlite',
  objectStore: 'fs',
  digestIntervalMs: 3_600_000,
  bodyLimitBytes: 12 * 1024 * 1024,
  notifyRetryBaseMs: 1000,
};

/** Environment variable for each setting (`OPENCTS_DATA_DIR`, ...). */
export const ENV_NAMES: Record<keyof Config, string> = {
  dataDir: 'OPENCTS_DATA_DIR',
  host: 'OPENCTS_HOST',
  port: 'OPENCTS_PORT',
  region: 'OPENCTS_REGION',
  logLevel: 'OPENCTS_LOG_LEVEL',
  durability: 'OPENCTS_DURABILITY',
  retentionDays: 'OPENCTS_RETENTION_DAYS',
  trustedProxies: 'OPENCTS_TRUSTED_PROXIES',
  authFailuresPerMinute: 'OPENCTS_AUTH_FAILURES_PER_MINUTE',
  flushIntervalMs: 'OPENCTS_FLUSH_INTERVAL',
  digestIntervalMs: 'OPENCTS_DIGEST_INTERVAL',
  ltsHttpEndpoint: 'OPENCTS_LTS_HTTP_ENDPOINT',
  store: 'OPENCTS_STORE',
  objectStore: 'OPENCTS_OBJECT_STORE',
  s3Endpoint: 'OPENCTS_S3_ENDPOINT',
  s3Region: 'OPENCTS_S3_REGION',
  s3ForcePathStyle: 'OPENCTS_S3_FORCE_PATH_STYLE',
  s3AccessKeyId: 'OPENCTS_S3_ACCESS_KEY_ID',
  s3SecretAccessKey: 'OPENCTS_S3_SECRET_ACCESS_KEY',
  tlsCert: 'OPENCTS_TLS_CERT',
  tlsKey: 'OPENCTS_TLS_KEY',
  bodyLimitBytes: 'OPENCTS_BODY_LIMIT_BYTES',
  operationsCatalogue: 'OPENCTS_OPERATIONS_CATALOGUE',
  notifyRetryBaseMs: 'OPENCTS_NOTIFY_RETRY_BASE',
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const NUMERIC_KEYS = new Set<keyof Config>(['port', 'bodyLimitBytes', 'retentionDays', 'authFailuresPerMinute']);
/** Settings given as durations (`1s`, `60s`) or as milliseconds. */
const DURATION_KEYS = new Set<keyof Config>(['flushIntervalMs', 'digestIntervalMs', 'notifyRetryBaseMs']);
/** Config-file spellings of duration settings (`"flushInterval": "1s"`). */
const FILE_ALIASES: Readonly<Record<string, keyof Config>> = {
  flushInterval: 'flushIntervalMs',
  digestInterval: 'digestIntervalMs',
  notifyRetryBase: 'notifyRetryBaseMs',
};

function normaliseDurations(values: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values)) {
    const name = Object.hasOwn(FILE_ALIASES, key) ? FILE_ALIASES[key]! : key;
    if (DURATION_KEYS.has(name as keyof Config) && typeof value === 'string') {
      const ms = /^\d+$/.test(value) ? Number(value) : durationMs(value);
      if (ms === undefined) throw new ConfigError(`invalid duration for ${key}: ${JSON.stringify(value)}`);
      out[name] = ms;
    } else {
      // defineProperty: a key such as `__proto__` from a config file stays a plain (unknown) key.
      Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
    }
  }
  return out;
}
const LIST_KEYS = new Set<keyof Config>(['trustedProxies']);
const BOOLEAN_KEYS = new Set<keyof Config>(['s3ForcePathStyle']);

function fromEnvironment(env: NodeJS.ProcessEnv): Partial<Config> {
  const out: Record<string, unknown> = {};
  for (const [key, name] of Object.entries(ENV_NAMES) as Array<[keyof Config, string]>) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    out[key] = NUMERIC_KEYS.has(key)
      ? Number(raw)
      : BOOLEAN_KEYS.has(key)
        ? raw === 'true'
        : LIST_KEYS.has(key)
          ? raw
              .split(',')
              .map((v) => v.trim())
              .filter(Boolean)
          : raw;
  }
  return out as Partial<Config>;
}

function fromFile(file: string): Partial<Config> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
    return parsed as Partial<Config>;
  } catch (err) {
    throw new ConfigError(`config file ${file} is not a JSON object: ${(err as Error).message}`);
  }
}

function withoutUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export interface ConfigSources {
  readonly flags?: Partial<Config> & { config?: string | undefined };
  readonly env?: NodeJS.ProcessEnv;
}

/** Merges the sources and validates the result; throws ConfigError naming the bad setting. */
export function resolveConfig({ flags = {}, env = process.env }: ConfigSources = {}): Config {
  const { config: configFile, ...flagValues } = flags;
  const file = configFile ?? env['OPENCTS_CONFIG'];
  const merged = {
    ...DEFAULT_CONFIG,
    ...normaliseDurations(file ? fromFile(file) : {}),
    ...normaliseDurations(fromEnvironment(env)),
    ...normaliseDurations(withoutUndefined(flagValues)),
  } as Config;
  // Own keys only: `in` would let Object.prototype names (`constructor`, `__proto__`) through.
  const unknown = Object.keys(merged).filter((k) => !Object.hasOwn(ENV_NAMES, k));
  if (unknown.length > 0) throw new ConfigError(`unknown configuration setting(s): ${unknown.join(', ')}`);
  if ((merged.tlsCert === undefined) !== (merged.tlsKey === undefined)) {
    throw new ConfigError('TLS needs both a certificate (tlsCert) and a key (tlsKey)');
  }
  if (!Value.Check(ConfigSchema, merged)) {
    const first = [...Value.Errors(ConfigSchema, merged)][0];
    throw new ConfigError(`invalid configuration ${first?.path ?? ''}: ${first?.message ?? 'invalid'}`);
  }
  return { ...merged, dataDir: path.resolve(merged.dataDir) };
}
