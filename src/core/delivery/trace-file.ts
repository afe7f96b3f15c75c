/**
 * Trace files as CTS writes them to OBS (spec §5.1): the object key layout, the file name, the
 * content (a JSON array of traces in the stored shape of §2.2, gzip or plain) and how a delivery
 * batch is cut into files. Pure: the delivery worker does the I/O.
 *
 * Keys are deterministic for a batch: the 16-hex part is derived from the tracker, the batch's
 * trace range and the content, so a retry after a crash rewrites the same object instead of
 * adding a second copy.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { Trace } from '../trace/trace.js';
import type { CompressType, Tracker } from '../tracker/tracker.js';

/** Files are split so that none holds more than this many traces or bytes of JSON. */
export const MAX_TRACES_PER_FILE = 5000;
export const MAX_JSON_BYTES_PER_FILE = 8 * 1024 * 1024;

/** `2026-11-25T13-05-00` (UTC; `-` instead of `:`, as in CTS file names). */
export function fileTimestamp(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace(/:/g, '-');
}

/** `2026/11/25` (UTC, zero-padded as the 2023 console shows; spec §5.1 Rec). */
export function datePath(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 4)}/${iso.slice(5, 7)}/${iso.slice(8, 10)}`;
}

function namePrefix(tracker: Tracker): string {
  return tracker.obs_info.file_prefix_name ? `${tracker.obs_info.file_prefix_name}_` : '';
}

export function traceFileKey(input: {
  tracker: Tracker;
  region: string;
  serviceType: string | undefined;
  time: number;
  hex16: string;
}): string {
  const { tracker, region, serviceType, time, hex16 } = input;
  const folder = `CloudTraces/${region}/${datePath(time)}/${tracker.tracker_name}`;
  const service = tracker.obs_info.is_sort_by_service && serviceType ? `/${serviceType}` : '';
  const extension = tracker.obs_info.compress_type === 'gzip' ? '.json.gz' : '.json';
  return `${folder}${service}/${namePrefix(tracker)}CloudTrace_${region}_${fileTimestamp(time)}Z_${hex16}${extension}`;
}

/**
 * A trace as a delivered file holds it. The CTS file sample (spec §2.2) carries `user` as a
 * JSON-encoded string and a numeric `code`; tools that read CTS files expect that shape.
 */
export function fileRecord(trace: Trace): Record<string, unknown> {
  const record: Record<string, unknown> = { ...trace, user: JSON.stringify(trace.user) };
  if (trace.code !== undefined && /^\d+$/.test(trace.code)) record['code'] = Number(trace.code);
  return record;
}

/** KMS createDatakey traces stay out of files when the tracker excludes KMS (spec §1.2). */
export function isExcluded(tracker: Tracker, trace: Trace): boolean {
  return (
    tracker.management_event_selector.exclude_service.includes('KMS') &&
    trace.service_type === 'KMS' &&
    trace.trace_name === 'createDatakey'
  );
}

export interface TraceFile {
  readonly key: string;
  readonly body: Buffer;
  readonly contentType: string;
  readonly contentEncoding: string | undefined;
  /** Hex SHA-256 of the stored bytes (what a digest lists). */
  readonly sha256: string;
  readonly traceCount: number;
  readonly oldestTime: number;
  readonly newestTime: number;
}

function encode(records: readonly Record<string, unknown>[], compress: CompressType): Buffer {
  const json = Buffer.from(JSON.stringify(records));
  return compress === 'gzip' ? gzipSync(json) : json;
}

function chunk(traces: readonly Trace[]): Trace[][] {
  const parts: Trace[][] = [];
  let current: Trace[] = [];
  let bytes = 2;
  for (const trace of traces) {
    const size = JSON.stringify(trace).length + 1;
    if (current.length > 0 && (current.length >= MAX_TRACES_PER_FILE || bytes + size > MAX_JSON_BYTES_PER_FILE)) {
      parts.push(current);
      current = [];
      bytes = 2;
    }
    current.push(trace);
    bytes += size;
  }
  if (current.length > 0) parts.push(current);
  return parts;
}

export interface DeliveryBatch {
  readonly tracker: Tracker;
  readonly region: string;
  /** The batch covers traces with fromSeq < seq ≤ toSeq. */
  readonly fromSeq: number;
  readonly toSeq: number;
  /** When the batch was planned: it names and dates the files. */
  readonly time: number;
  /** The batch's traces in commit order, exclusions not yet applied. */
  readonly traces: readonly Trace[];
}

/** The files of a batch: one per service (when sorted by service), split when large. */
export function buildTraceFiles(batch: DeliveryBatch): TraceFile[] {
  const { tracker } = batch;
  const kept = batch.traces.filter((t) => !isExcluded(tracker, t));
  const groups = new Map<string | undefined, Trace[]>();
  for (const trace of kept) {
    const group = tracker.obs_info.is_sort_by_service ? trace.service_type : undefined;
    let list = groups.get(group);
    if (!list) groups.set(group, (list = []));
    list.push(trace);
  }
  const files: TraceFile[] = [];
  for (const [serviceType, traces] of [...groups].sort(([a], [b]) => String(a).localeCompare(String(b)))) {
    chunk(traces).forEach((part, index) => {
      const body = encode(part.map(fileRecord), tracker.obs_info.compress_type);
      const sha256 = createHash('sha256').update(body).digest('hex');
      const hex16 = createHash('sha256')
        .update(`${tracker.id}\0${batch.fromSeq}\0${batch.toSeq}\0${serviceType ?? ''}\0${index}\0${sha256}`)
        .digest('hex')
        .slice(0, 16);
      files.push({
        key: traceFileKey({ tracker, region: batch.region, serviceType, time: batch.time, hex16 }),
        body,
        contentType: 'application/json',
        contentEncoding: tracker.obs_info.compress_type === 'gzip' ? 'gzip' : undefined,
        sha256,
        traceCount: part.length,
        oldestTime: Math.min(...part.map((t) => t.time)),
        newestTime: Math.max(...part.map((t) => t.time)),
      });
    });
  }
  return files;
}
