/**
 * The raw HTTP limit the tracker benchmarks are judged against: a bare Fastify 5 server (no
 * logger, no hooks, no schemas) answering the same URLs as the tracker API with a small constant
 * JSON. Run as a child process: `node bare-fastify-server.js --port P`.
 */
import { parseArgs } from 'node:util';
import Fastify from 'fastify';

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
