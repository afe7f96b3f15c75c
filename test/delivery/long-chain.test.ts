/**
 * No false positives over a long chain: more than 1,000 digest periods of 60 s driven by a fake
 * clock (traces in some periods, none in others, cycles at varying offsets into their period,
 * across midnight, and a 5-period outage covered by one digest) must verify with 0 problems,
 * every digest and every listed file valid, for the whole chain and for --from/--to sub-ranges.
 * Traces are written in bulk through the store to keep it fast.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { verifyTrail, type VerifyReport } from '../../src/delivery/verify.js';
import {
  exportPublicKeys,
  isoOf,
  listDigests,
  listTraceFiles,
  PERIOD_MS,
  runVerify,
  startDeliveryHarness,
  type DeliveryHarness,
  type StoredDigest,
} from '../support/delivery-harness.js';
import { makeTempDir } from '../support/service.js';

const BUCKET = 'long-chain';
/** Noon, so the chain crosses midnight into 2026-11-21 (a new date folder). */
const START_MS = Date.parse('2026-11-20T12:00:00Z');
const PERIODS = 1010;
/** The service is "down" for these periods: no cycle runs, the next digest covers them all. */
const OUTAGE = new Set([600, 601, 602, 603, 604]);

describe(`long chain: ${PERIODS} digest periods verify with 0 false positives`, () => {
  let h: DeliveryHarness;
  let fakeNow: number;
  let digests: StoredDigest[];
  let trustedKeys: Map<string, string>;
  let keysDir: string;
  let buildMs: number;

  before(async () => {
    h = await startDeliveryHarness({ bucket: BUCKET });
    const t0 = Date.now();
    h.clock = START_MS;
    await h.worker.runOnce(); // starts the digest period at 12:00:00
    for (let p = 1; p <= PERIODS; p++) {
      const boundary = START_MS + p * PERIOD_MS;
      // Traces in about half of the periods, in varying numbers; none in the others.
      if (p % 2 === 1 || p % 7 === 0) await h.insertTraces(1 + (p % 5), boundary - 30_000);
      if (OUTAGE.has(p)) continue;
      // The cycle runs 0–49 s after the boundary (a flush interval does not keep step with periods).
      h.clock = boundary + ((p * 7_919) % 50) * 1000;
      await h.worker.runOnce();
    }
    fakeNow = h.clock;
    buildMs = Date.now() - t0;
    digests = await listDigests(h.svc.service.runtime.objects, BUCKET);
    trustedKeys = new Map((await h.svc.service.runtime.keys.list()).map((k) => [k.fingerprint, k.public_key_pem]));
    keysDir = await makeTempDir('opencts-keys-');
  });
  after(async () => {
    await rm(keysDir, { recursive: true, force: true });
    await h.close();
  });

  function verify(range: { from?: number; to?: number; now?: number }): Promise<VerifyReport> {
    return verifyTrail({
      objects: h.svc.service.runtime.objects,
      bucket: BUCKET,
      tracker: 'system',
      trustedKeys,
      ...range,
    });
  }

  /** Digests ending in (from, to], and the files they list. */
  function expected(from = -Infinity, to = Infinity): { digests: number; files: number } {
    const inRange = digests.filter((d) => {
      const end = Date.parse(d.digest.digest_end_time.replace(/T(\d\d)-(\d\d)-(\d\d)Z$/, 'T$1:$2:$3Z'));
      return end > from && end <= to;
    });
    return { digests: inRange.length, files: inRange.reduce((n, d) => n + d.digest.log_files.length, 0) };
  }

  function assertClean(report: VerifyReport, want: { digests: number; files: number }, label: string): void {
    assert.deepEqual(report.problems, [], `${label}: no problems`);
    assert.deepEqual(report.gaps, [], label);
    assert.deepEqual(report.digests, { valid: want.digests, total: want.digests }, label);
    assert.deepEqual(report.files, { valid: want.files, total: want.files }, label);
  }

  test('the chain has one digest per ended period, the outage covered by one, across midnight', async () => {
    console.log(`# built ${PERIODS} periods in ${buildMs} ms`);
    assert.equal(digests.length, PERIODS - OUTAGE.size);
    assert.ok(digests.length >= 1000);
    const outageDigest = digests.find((d) => d.digest.digest_end_time === isoStamp(START_MS + 605 * PERIOD_MS));
    assert.equal(outageDigest?.digest.digest_start_time, isoStamp(START_MS + 599 * PERIOD_MS));
    assert.ok(digests.some((d) => d.key.includes('/2026/11/21/system/Digest/CTS/')));
    // Every delivered file is listed by exactly one digest, except the last cycle's (not digested yet).
    const listed = digests.flatMap((d) => d.digest.log_files.map((f) => f.object));
    assert.equal(new Set(listed).size, listed.length, 'no file listed twice');
    const files = await listTraceFiles(h.svc.service.runtime.objects, BUCKET);
    const lastCycle = isoStamp(fakeNow).slice(0, -1);
    assert.deepEqual(
      files.filter((f) => !listed.includes(f)).every((f) => f.includes(lastCycle)),
      true,
    );
    assert.ok(listed.length > PERIODS / 2, `${listed.length} files listed`);
  });

  test('opencts verify: 0 problems, N/N digests and M/M files valid, exit 0', async () => {
    const t0 = Date.now();
    const { cli } = await runVerify(h.bucketDir, ['--to', isoOf(fakeNow)]);
    console.log(`# opencts verify of ${digests.length} digests: ${Date.now() - t0} ms`);
    assert.equal(cli.code, 0, cli.stdout + cli.stderr);
    const want = expected();
    assert.match(cli.stdout, new RegExp(`^${want.digests}/${want.digests} digest files valid$`, 'm'));
    assert.match(cli.stdout, new RegExp(`^${want.files}/${want.files} trace files valid$`, 'm'));
    assert.doesNotMatch(cli.stdout, /^(digest|file|chain)-/m, 'no problem lines');
  });

  test('opencts verify --from/--to on a sub-range across midnight (keys file): clean', async () => {
    const keysFile = await exportPublicKeys(h.svc.dataDir, path.join(keysDir, 'keys.json'));
    const from = START_MS + 700 * PERIOD_MS + 30_000;
    const to = START_MS + 800 * PERIOD_MS + 15_000;
    const { cli, report } = await runVerify(h.bucketDir, [
      '--from',
      isoOf(from),
      '--to',
      String(to),
      '--public-key',
      keysFile,
      '--json',
    ]);
    assert.equal(cli.code, 0, cli.stdout + cli.stderr);
    assert.ok(report);
    assertClean(report, expected(from, to), 'cli sub-range');
    assert.equal(report.digests.total, 100);
  });

  test('verifyTrail: whole chain and many --from/--to sub-ranges are clean', async () => {
    const t0 = Date.now();
    assertClean(await verify({ to: fakeNow }), expected(), 'whole chain');
    const at = (p: number, s = 0) => START_MS + p * PERIOD_MS + s * 1000;
    const ranges: Array<{ from?: number; to?: number }> = [
      { from: at(100), to: at(400) },
      { from: at(100, 30), to: at(400, 59) },
      { from: at(0), to: at(1) },
      { from: at(0, 1), to: at(2) },
      { from: at(598, 10), to: at(606, 10) }, // around the outage
      { from: at(602), to: at(610) }, // from inside the outage
      { from: at(719), to: at(721) }, // midnight
      { to: at(500) },
      { to: at(500, 45) },
      { from: at(990) },
      { from: at(PERIODS - 1, 20) },
    ];
    for (const range of ranges) {
      const label = `from ${range.from === undefined ? '-' : isoOf(range.from)} to ${range.to === undefined ? '-' : isoOf(range.to)}`;
      // Staleness is judged at --to, or at the fake now when the range is open.
      const report = await verify({ ...range, now: range.to ?? fakeNow });
      assertClean(report, expected(range.from, range.to), label);
      assert.ok(report.digests.total > 0, label);
    }
    console.log(`# verifyTrail: whole chain + ${ranges.length} sub-ranges in ${Date.now() - t0} ms`);
  });
});

function isoStamp(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace(/:/g, '-')}Z`;
}
