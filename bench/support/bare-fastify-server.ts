/**
 * The raw HTTP limit the tracker benchmarks are judged against: a bare Fastify 5 server (no
 * logger, no hooks, no schemas) answering the same URLs as the tracker and trace APIs with a small
 * constant JSON (a canned page of traces for ListTraces). Run as a child process: `node bare-fastify-server.js --port P`.
 */
import { parseArgs } from 'node:util';
import Fastify from 'fastify';
import { buildUniverse, generateIngested, mulberry32, pseudoUuid } from './trace-generator.js';

const { values } = parseArgs({
  options: { port: { type: 'string', default: '0' }, host: { type: 'string', default: '127.0.0.1' } },
});

const app = Fastify({ logger: false });
const small = { ok: true, service: 'bare-fastify', version: '0.0.1' };

// Fastify's default JSON parser answers 400 to an empty body sent as application/json, which the
// Huawei SDKs (and so the benchmarks) send on every DELETE. Same parse, empty allowed.
app.removeContentTypeParser('application/json');
app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
  try {
    done(null, body === '' ? undefined : JSON.parse(body as string));
  } catch (err) {
    done(err as Error, undefined);
  }
});

app.get('/', async () => small);
// The route the comparison is about: a POST that parses a JSON body and returns a small JSON.
app.post('/v3/:project_id/tracker', async (_request, reply) => reply.code(201).send(small));
// The benchmarks alternate create and delete; the delete needs an answer too (empty, like CTS).
app.delete('/v3/:project_id/trackers', async (_request, reply) => reply.code(204).send());
// UpdateTracker answers 200 with an empty body (traced-writes).
app.put('/v3/:project_id/tracker', async (_request, reply) => reply.code(200).send());

// Ingest (bench/ingest.ts): the parsed body's traces get a null id each, like a call nobody records.
app.post('/v3/:project_id/traces', async (request, reply) => {
  const traces = (request.body as { traces?: unknown[] } | undefined)?.traces ?? [];
  return reply.code(201).send({ trace_ids: traces.map(() => null) });
});

// ListTraces (bench/list-traces.ts): a canned page of `limit` (default 10) synthetic ~1.3 KB traces,
// assembled as a string like OpenCTS does, so the bytes on the wire match a real page.
const universe = buildUniverse(1, 2000);
const rng = mulberry32(7);
const sampleTraces = Array.from({ length: 200 }, () => {
  const now = Date.now();
  return JSON.stringify({
    trace_id: pseudoUuid(rng),
    ...generateIngested(rng, universe, now - 60_000, 'bench'),
    record_time: now,
  });
});
const pages = new Map<number, string>();
app.get('/v3/:project_id/traces', async (request, reply) => {
  const raw = Number((request.query as { limit?: string }).limit ?? 10);
  const limit = Number.isInteger(raw) && raw >= 1 && raw <= 200 ? raw : 10;
  let page = pages.get(limit);
  if (page === undefined) {
    page = `{"traces":[${sampleTraces.slice(0, limit).join(',')}],"meta_data":{"count":${limit},"marker":${JSON.stringify(pseudoUuid(rng))}}}`;
    pages.set(limit, page);
  }
  return reply.type('application/json; charset=utf-8').send(page);
});

const close = () => {
  app.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', close);
process.once('SIGINT', close);

await app.listen({ host: values.host, port: Number(values.port) });
const address = app.server.address();
console.log(`bare fastify listening on port ${typeof address === 'object' && address ? address.port : values.port}`);
