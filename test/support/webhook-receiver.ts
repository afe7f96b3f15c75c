/**
 * A local webhook receiver (node:http) for notification tests and benchmarks: records every POST
 * with its headers, raw body and arrival time, and answers with the status the test chooses.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

export interface ReceivedMessage {
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  /** performance.timeOrigin + performance.now() at the end of the body: ms with sub-ms precision. */
  readonly receivedAt: number;
  readonly status: number;
}

export interface WebhookReceiver {
  readonly url: string;
  readonly messages: ReceivedMessage[];
  /** Status of every answer from now on (200 by default). */
  answer(status: number): void;
  /** Messages received and not answered yet (with an answer delay, the server waits on them). */
  inFlight(): number;
  /** Resolves once `predicate` holds for the messages received so far (checked on each arrival). */
  waitFor(predicate: (messages: readonly ReceivedMessage[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(
  path = '/hook',
  options: { answerDelayMs?: number } = {},
): Promise<WebhookReceiver> {
  const messages: ReceivedMessage[] = [];
  let status = 200;
  let pending = 0;
  const waiters = new Set<() => void>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const receivedAt = performance.timeOrigin + performance.now();
      const answer = req.method === 'POST' && req.url === path ? status : 404;
      messages.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), receivedAt, status: answer });
      pending++;
      const respond = () => {
        pending--;
        if (!res.destroyed) res.writeHead(answer, { 'content-type': 'text/plain' }).end(answer === 200 ? 'ok' : 'no');
      };
      if (options.answerDelayMs) setTimeout(respond, options.answerDelayMs);
      else respond();
      for (const wake of waiters) wake();
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${path}`,
    messages,
    answer: (s) => {
      status = s;
    },
    inFlight: () => pending,
    waitFor: (predicate, timeoutMs = 10_000) =>
      new Promise<void>((resolve, reject) => {
        if (predicate(messages)) return resolve();
        const check = () => {
          if (!predicate(messages)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`webhook condition not met within ${timeoutMs} ms (${messages.length} messages)`));
        }, timeoutMs);
        waiters.add(check);
      }),
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close').catch(() => undefined);
    },
  };
}
