/**
 * Reads an fs-store bucket folder (`<data-dir>/buckets/B/`) the way a consumer of trace files
 * would: every object is a file at its key path; the store's own names (`.opencts-metadata/`, the
 * `.opencts-tmp-…` files a crash leaves behind) are not objects.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';

/** Names the fs object store keeps for itself (metadata folder, temp files); never object keys. */
const RESERVED_PREFIX = '.opencts';

export interface BucketObject {
  /** The object key: the path relative to the bucket folder, with `/`. */
  readonly key: string;
  readonly file: string;
  readonly size: number;
  readonly mtimeMs: number;
}

/** Every object in the bucket folder, sorted by key; skips the store's reserved names. */
export async function listBucketObjects(bucketDir: string): Promise<BucketObject[]> {
  const out: BucketObject[] = [];
  const walk = async (dir: string, keyBase: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const entry of entries) {
      if (entry.name.startsWith(RESERVED_PREFIX)) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full, `${keyBase}${entry.name}/`);
      else if (entry.isFile()) {
        const stats = await stat(full);
        out.push({ key: keyBase + entry.name, file: full, size: stats.size, mtimeMs: stats.mtimeMs });
      }
    }
  };
  await walk(bucketDir, '');
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Trace file keys (spec §5.1): `CloudTraces/<region>/YYYY/MM/DD/<tracker>[/<service>]/[prefix_]CloudTrace_…`. */
export const TRACE_FILE_KEY =
  /^CloudTraces\/[^/]+\/\d{4}\/\d{2}\/\d{2}\/[^/]+(?:\/[^/]+)?\/(?:[^/]+_)?CloudTrace_[^/]+_\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z_[0-9a-f]{16}\.json(?:\.gz)?$/;

/** A trace as a file holds it: at least its id. */
export interface FileTrace {
  readonly trace_id: string;
  readonly [field: string]: unknown;
}

/**
 * The traces of one trace file: gunzipped when the key says `.json.gz`, a JSON array of objects
 * with a string `trace_id`. Throws (with the key) when the file is unreadable or malformed.
 */
export async function readTraceFile(object: BucketObject): Promise<FileTrace[]> {
  return parseTraceFile(object.key, await readFile(object.file));
}

/** The traces of a trace file's bytes (from a folder or an S3 GET), checked as readTraceFile says. */
export function parseTraceFile(key: string, raw: Uint8Array): FileTrace[] {
  let text: string;
  try {
    text = Buffer.from(key.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  } catch (err) {
    throw new Error(`${key}: not gzip (${raw.length} bytes): ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`${key}: not JSON (${text.length} chars): ${(err as Error).message}`);
  }
  if (!Array.isArray(parsed)) throw new Error(`${key}: not a JSON array`);
  for (const [i, item] of parsed.entries()) {
    const id = (item as { trace_id?: unknown } | null)?.trace_id;
    if (typeof id !== 'string' || id === '') throw new Error(`${key}: item ${i} has no trace_id`);
  }
  return parsed as FileTrace[];
}
