/**
 * The webhook end of the notification benchmark: a node:http server in the benchmark's process
 * that notes when each notified trace (by its request_id) first arrived, answering 200 at once.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

export interface WebhookSink {
  readonly url: string;
  /** request_id of the notified trace → performance.timeOrigin + now() at its first arrival. */
  readonly receivedAt: Map<string, number>;
  /** One message body as received (for a raw POST of the same size). */
  readonly sampleBody: string | undefined;
  close(): Promise<void>;
}

export async function startWebhookSink(): Promise<WebhookSink> {
  const receivedAt = new Map<string, number>();
  let sampleBody: string | undefined;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = performance.timeOrigin + performance.now();
      res.writeHead(200).end();
      if (req.url?.includes('raw=1')) return;
      const body = Buffer.concat(chunks).toString('utf8');
      sampleBody ??= body;
      const id = (JSON.parse(body) as { trace?: { request_id?: string } }).trace?.request_id;
      if (id !== undefined && !receivedAt.has(id)) receivedAt.set(id, at);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    receivedAt,
    get sampleBody() {
      return sampleBody;
    },
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close').catch(() => undefined);
    },
  };
}
