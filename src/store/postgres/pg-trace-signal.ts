/**
 * The trace-commit signal between instances on one PostgreSQL database (LISTEN/NOTIFY): a
 * transaction that inserts traces also NOTIFYs (delivered by PostgreSQL only if it commits), and
 * an instance with listeners keeps one connection LISTENing and wakes them when another
 * instance's traces committed. Its own commits are signalled locally (PostgresStore), so its own
 * notifications are ignored.
 *
 * A hint, never the only way: a NOTIFY can be missed (the listening connection was being
 * re-opened; a write that issued the batch's NOTIFY rolled back to its savepoint), and the
 * notifier's poll finds those traces anyway.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { PgTransaction } from './pg-group-commit.js';

export const TRACE_CHANNEL = 'opencts_traces';
/** Wait before re-opening a broken listening connection. */
const RECONNECT_MS = 1000;

export class PgTraceSignal {
  /** Payload of this instance's notifications. */
  private readonly instance = randomUUID();
  private client: pg.Client | undefined;
  private listening = false;
  private connectedBefore = false;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly connectionString: string | undefined,
    private readonly onOtherInstance: () => void,
  ) {}

  /** Inside a transaction that inserts traces: once per transaction. */
  async announce(tx: PgTransaction): Promise<void> {
    if (tx.memo.has(TRACE_CHANNEL)) return;
    tx.memo.set(TRACE_CHANNEL, true);
    await tx.write({ name: 'notify-traces', text: 'SELECT pg_notify($1, $2)', values: [TRACE_CHANNEL, this.instance] });
  }

  /** Starts listening (once; the first listener asks for it). */
  listen(): void {
    if (this.listening || this.closed) return;
    this.listening = true;
    void this.connect();
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.connectionString, application_name: 'opencts-listen' });
    this.client = client;
    const retry = () => {
      if (this.client !== client) return;
      this.client = undefined;
      client.end().catch(() => undefined);
      if (this.closed) return;
      this.timer = setTimeout(() => void this.connect(), RECONNECT_MS);
      this.timer.unref();
    };
    client.on('error', retry);
    client.on('end', retry);
    client.on('notification', (message) => {
      if (message.channel === TRACE_CHANNEL && message.payload !== this.instance) this.onOtherInstance();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${TRACE_CHANNEL}`);
      // Traces committed while the connection was being re-opened were not announced to it (a
      // first connection has nothing to catch up on: the notifier looks for work as it starts).
      if (this.connectedBefore && !this.closed) this.onOtherInstance();
      this.connectedBefore = true;
    } catch {
      retry();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}
