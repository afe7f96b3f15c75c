/**
 * Cost of authenticating a request: OpenCTS's SDK-HMAC-SHA256 verification of a realistic signed
 * request (a 1.3 KB JSON body, the SDK's four signed headers, a query), beside the raw limit it is
 * built on — one HMAC-SHA256 over a string-to-sign — measured in the same run.
 *
 * Usage: node dist/bench/signature-verify.js [--duration S] [--repeat N] [--json]
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { parseAuthorization, signRequest } from '../src/api/auth/sdk-hmac-sha256.js';
import { verifySignature, type ReceivedRequest } from '../src/api/auth/verify-signature.js';
import { formatRatio, formatSummary, markdownTable, summarize, type Summary } from './support/stats.js';

interface Options {
  durationS: number;
  repeat: number;
  json: boolean;
}

function parseArgs(argv: readonly string[]): Options {
  const options: Options = { durationS: 2, repeat: 5, json: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return Number(v);
    };
    if (arg === '--duration') options.durationS = value();
    else if (arg === '--repeat') options.repeat = value();
    else if (arg === '--json') options.json = true;
    else if (arg === '--connections' || arg === '--warmup')
      i++; // accepted from run-all, unused here
    else throw new Error(`unknown argument ${arg}`);
  }
  return options;
}

/** Calls `op` for `durationS` seconds; returns operations per second. */
function rate(op: () => unknown, durationS: number): number {
  const started = performance.now();
  const until = started + durationS * 1000;
  let n = 0;
  let now = started;
  while (now < until) {
    for (let i = 0; i < 256; i++) op();
    n += 256;
    now = performance.now();
  }
  // Divided by the time really taken: the last round of 256 overshoots the deadline.
  return n / ((now - started) / 1000);
}

function makeRequest(): { received: ReceivedRequest; authorization: string; secret: string } {
  const secret = 'qRojBwQAG9XUns2KvMurReKyCzhX2OqkocWQX7E5';
  const body = JSON.stringify({
    tracker_type: 'data',
    tracker_name: 'bench-tracker',
    is_lts_enabled: true,
    is_support_validate: true,
    data_bucket: { data_bucket_name: 'bench-source', data_event: ['READ', 'WRITE'] },
    obs_info: { bucket_name: 'bench-target', file_prefix_name: 'traces', is_sort_by_service: true },
    agency_name: 'cts_admin_trust',
    padding: 'x'.repeat(900),
  });
  const path = '/v3/0123456789abcdef0123456789abcdef/tracker';
  const query: Array<[string, string]> = [['dry_run', 'false']];
  const headers = {
    'content-type': 'application/json',
    host: '127.0.0.1:8080',
    'x-project-id': '0123456789abcdef0123456789abcdef',
  };
  const signed = signRequest(
    { method: 'POST', path, query, headers, body },
    { accessKeyId: 'VR8LZ811WCQXNZ45ID8C', secretAccessKey: secret },
  );
  const all: Record<string, string> = { ...headers, 'x-sdk-date': signed['X-Sdk-Date']! };
  return {
    secret,
    authorization: signed['Authorization']!,
    received: {
      method: 'POST',
      url: `${path}?dry_run=false`,
      header: (name) => all[name],
      rawBody: Buffer.from(body),
    },
  };
}

function main(): void {
  const options = parseArgs(process.argv.slice(2));
  const { received, authorization, secret } = makeRequest();
  const now = Date.now();
  // A string-to-sign of the size the verifier produces (algorithm, date, 64-hex hash).
  const stringToSign = `SDK-HMAC-SHA256\n20261125T131533Z\n${'ab'.repeat(32)}`;
  const verifications: number[] = [];
  const parsedVerifications: number[] = [];
  const hmacs: number[] = [];
  const primitives: number[] = [];
  const body = received.rawBody!;
  const canonical = 'x'.repeat(300);
  const expected = createHmac('sha256', secret).update(stringToSign).digest();
  const auth = parseAuthorization(authorization);
  if (!auth || verifySignature(received, auth, secret, now) !== undefined)
    throw new Error('bench request does not verify');
  for (let r = 0; r < options.repeat; r++) {
    hmacs.push(rate(() => createHmac('sha256', secret).update(stringToSign).digest('hex'), options.durationS));
    // The cryptography a verification cannot avoid: hash the body, hash a ~300 B canonical
    // request, one HMAC, a constant-time compare (perf-limits §5 measured 139k/s of this).
    primitives.push(
      rate(() => {
        createHash('sha256').update(body).digest('hex');
        createHash('sha256').update(canonical).digest('hex');
        return timingSafeEqual(createHmac('sha256', secret).update(stringToSign).digest(), expected);
      }, options.durationS),
    );
    parsedVerifications.push(
      rate(() => verifySignature(received, parseAuthorization(authorization)!, secret, now), options.durationS),
    );
    verifications.push(rate(() => verifySignature(received, auth, secret, now), options.durationS));
  }
  const ratio = (a: number[], b: number[]): Summary => summarize(a.map((v, i) => v / b[i]!));
  const results = {
    verify_with_header_parse: summarize(parsedVerifications),
    verify: summarize(verifications),
    raw_hmac_sha256: summarize(hmacs),
    raw_crypto_of_a_check: summarize(primitives),
    ratio_to_raw_hmac: ratio(parsedVerifications, hmacs),
    ratio_to_raw_crypto: ratio(parsedVerifications, primitives),
  };
  if (options.json) {
    console.log(JSON.stringify(results));
    return;
  }
  console.log('AK/SK signature verification (SDK-HMAC-SHA256), one core, in-process');
  console.log(
    `request: POST with a ${received.rawBody?.length ?? 0} B JSON body, 4 signed headers, 1 query parameter; ` +
      `${options.repeat} × ${options.durationS} s, median (min–max)`,
  );
  console.log(
    markdownTable(
      ['what', 'per second'],
      [
        [
          'verifySignature, incl. parsing Authorization (the server path)',
          formatSummary(results.verify_with_header_parse),
        ],
        ['verifySignature alone', formatSummary(results.verify)],
        ['raw HMAC-SHA256 over a 100 B string-to-sign (the limit)', formatSummary(results.raw_hmac_sha256)],
        ['raw crypto of one check: 2 × SHA-256 + HMAC + compare', formatSummary(results.raw_crypto_of_a_check)],
        ['ratio: verification ÷ raw HMAC', formatRatio(results.ratio_to_raw_hmac)],
        ['ratio: verification ÷ raw crypto of one check', formatRatio(results.ratio_to_raw_crypto)],
      ],
    ),
  );
  console.log(
    'A verification is two SHA-256 (body, canonical request) + one HMAC + canonicalisation, so it costs several raw HMACs.',
  );
}

main();
