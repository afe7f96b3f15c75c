/**
 * The LTS dump of trackers with `is_lts_enabled` (spec §1.1 lts, §5.1): traces also go to a log
 * sink named by group `CTS` and topic `system-trace` (a data tracker's topic is its name). Here
 * the sink is an NDJSON file per topic under `<data-dir>/lts/<group>/<topic>/`, rotated by size,
 * and optionally an HTTP endpoint that receives NDJSON batches. Delivery is at-least-once (a
 * crash between writing and saving the cursor repeats lines); a trace that cannot be forwarded
 * is counted in /metrics, never dropped silently.
 */
import { mkdir, open, readdir, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { fileRecord } from '../core/delivery/trace-file.js';
import type { Trace } from '../core/trace/trace.js';
import type { Tracker } from '../core/tracker/tracker.js';
import type { Store } from '../store/store.js';

/** A line above this is not forwarded (LTS rejects log events this large). */
export const MAX_LINE_BYTES = 1024 * 1024;
export const ROTATE_BYTES = 64 * 1024 * 1024;
export const CURRENT_FILE = 'current.ndjson';
const BATCH = 5000;

export interface LtsSinkOptions {
  readonly root: string;
  readonly store: Store;
  readonly registry: Registry;
  readonly logger: Logger;
  readonly httpEndpoint?: string | undefined;
  readonly rotateBytes?: number;
}

export function ltsConsumer(trackerId: string): string {
  return `lts:${trackerId}`;
}

export class LtsSink {
  private readonly forwarded: Counter<'topic'>;
  private readonly dropped: Counter<'reason'>;

  constructor(private readonly options: LtsSinkOptions) {
    this.forwarded = new Counter({
      name: 'opencts_lts_forwarded_total',
      help: 'Traces written to the LTS dump, by topic',
      labelNames: ['topic'] as const,
      registers: [options.registry],
    });
    this.dropped = new Counter({
      name: 'opencts_lts_not_forwarded_total',
      help: 'Traces the LTS dump could not forward, by reason',
      labelNames: ['reason'] as const,
      registers: [options.registry],
    });
  }

  topicDir(tracker: Tracker): string {
    return path.join(this.options.root, tracker.lts.log_group_name, tracker.lts.log_topic_name);
  }

  /** Forwards the tracker's traces recorded since its LTS cursor. */
  async forward(tracker: Tracker): Promise<void> {
    const { store } = this.options;
    const consumer = ltsConsumer(tracker.id);
    // A dump switched on starts with the traces still retained, as delivery to a bucket does.
    let cursor = (await store.getCursor(consumer)) ?? 0;
    for (;;) {
      const rows = await store.readTracesForDelivery(
        tracker.project_id,
        tracker.tracker_name,
        cursor,
        Number.MAX_SAFE_INTEGER,
        BATCH,
      );
      if (rows.length === 0) return;
      const lines = this.lines(rows.map((r) => r.trace));
      await this.append(tracker, lines);
      if (this.options.httpEndpoint) await this.post(lines);
      this.forwarded.inc({ topic: tracker.lts.log_topic_name }, lines.length);
      cursor = rows[rows.length - 1]!.seq;
      await store.setCursor(consumer, cursor);
      if (rows.length < BATCH) return;
    }
  }

  /**
   * Stops following trackers whose dump is off or that are gone: their cursors must not hold back
   * the retention purge.
   */
  async forgetAllBut(liveTrackerIds: ReadonlySet<string>): Promise<void> {
    for (const { consumer } of await this.options.store.listCursors()) {
      if (consumer.startsWith('lts:') && !liveTrackerIds.has(consumer.slice(4))) {
        await this.options.store.deleteCursor(consumer);
      }
    }
  }

  private lines(traces: readonly Trace[]): string[] {
    const out: string[] = [];
    for (const trace of traces) {
      const line = JSON.stringify(fileRecord(trace));
      if (Buffer.byteLength(line) > MAX_LINE_BYTES) {
        this.dropped.inc({ reason: 'too_large' });
        this.options.logger.warn({ trace_id: trace.trace_id }, 'trace too large for the LTS dump');
        continue;
      }
      out.push(line);
    }
    return out;
  }

  private async append(tracker: Tracker, lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return;
    const dir = this.topicDir(tracker);
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, CURRENT_FILE);
    const size = (await stat(file).catch(() => undefined))?.size ?? 0;
    if (size >= (this.options.rotateBytes ?? ROTATE_BYTES)) {
      const stamp = new Date()
        .toISOString()
        .replace(/[-:]/g, '')
        .replace(/\.\d{3}/, '');
      const taken = new Set(await readdir(dir));
      let name = `${stamp}.ndjson`;
      for (let i = 1; taken.has(name); i++) name = `${stamp}-${i}.ndjson`;
      await rename(file, path.join(dir, name));
    }
    const handle = await open(file, 'a', 0o600);
    try {
      await handle.write(lines.join('\n') + '\n');
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  private async post(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return;
    try {
      const res = await fetch(this.options.httpEndpoint!, {
        method: 'POST',
        headers: { 'content-type': 'application/x-ndjson' },
        body: lines.join('\n') + '\n',
        signal: AbortSignal.timeout(10_000),
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
    } catch (err) {
      // The file copy is already written: count what the endpoint missed, keep going.
      this.dropped.inc({ reason: 'http_failed' }, lines.length);
      this.options.logger.warn({ err }, 'LTS HTTP endpoint did not take a batch');
    }
  }
}
