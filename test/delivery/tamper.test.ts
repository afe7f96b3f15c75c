/**
 * Tamper evidence of the digest chain (spec §5.2, CloudTrail's validate-logs §5.3): a chain of
 * several digests is built with a fake clock, `opencts verify` passes it, then every tampering is
 * applied to a FRESH COPY of the bucket folder and must make `opencts verify` exit 1 with the
 * problem kind that names it.
 *
 * Clock: cycles run 30 s into each 60 s digest period (a worker lagging the boundary, as a real
 * flush interval does), 7 cycles from 2026-11-20T00:00:30Z, so digests D1..D6 end at 00:01..00:06
 * and the verification time ("fake now") is 00:07:30, when the next cycle is due.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, rm, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { digestKey, sha256Hex, type Digest } from '../../src/core/delivery/digest.js';
import type { ProblemKind, VerifyReport } from '../../src/delivery/verify.js';
import {
  attackerKey,
  copyBucket,
  exportPublicKeys,
  FAKE_START_MS,
  isoOf,
  listDigests,
  listTraceFiles,
  PERIOD_MS,
  putDigest,
  reportedTrace,
  runVerify,
  startDeliveryHarness,
  type BucketCopy,
  type DeliveryHarness,
  type StoredDigest,
} from '../support/delivery-harness.js';
import { makeTempDir } from '../support/service.js';

const BUCKET = 'tamper-bucket';
const CYCLES = 7;

describe('digest chain: every tampering is detected', () => {
  let h: DeliveryHarness;
  let fakeNow: number;
  let keysDir: string;
  let keysFile: string;
  let digests: StoredDigest[];
  let tracker: { tracker_name: string; obs_info: { file_prefix_name: string } };

  before(async () => {
    h = await startDeliveryHarness({ bucket: BUCKET });
    h.clock = FAKE_START_MS + PERIOD_MS / 2;
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const traces = [
        reportedTrace({ trace_name: `createServer`, resource_id: `vm-${cycle}` }),
        reportedTrace({
          service_type: 'VPC',
          resource_type: 'vpc',
          trace_name: 'createVpc',
          resource_id: `v-${cycle}`,
        }),
      ];
      if (cycle % 2 === 0) traces.push(reportedTrace({ trace_name: 'deleteServer', resource_id: `vm-${cycle}` }));
      await h.ingest(traces);
      await h.worker.runOnce();
      h.clock += PERIOD_MS;
    }
    fakeNow = h.clock;
    keysDir = await makeTempDir('opencts-keys-');
    keysFile = await exportPublicKeys(h.svc.dataDir, path.join(keysDir, 'keys.json'));
    digests = await listDigests(h.svc.service.runtime.objects, BUCKET);
    tracker = { tracker_name: 'system', obs_info: { file_prefix_name: 'pre' } };
  });
  after(async () => {
    await rm(keysDir, { recursive: true, force: true });
    await h.close();
  });

  /** A digest's key at another end time, as the worker would name it. */
  function digestKeyAt(endMs: number): string {
    return digestKey(tracker as Parameters<typeof digestKey>[0], 'local-1', endMs);
  }

  /** Runs `opencts verify --json` on a tampered copy; asserts exit 1 and every expected kind. */
  async function expectDetected(
    copy: BucketCopy,
    expected: Array<{ kind: ProblemKind; key?: string }>,
    trust: 'public-key' | 'data-dir' = 'public-key',
  ): Promise<VerifyReport> {
    const trustArgs = trust === 'public-key' ? ['--public-key', keysFile] : ['--data-dir', h.svc.dataDir];
    const { cli, report } = await runVerify(copy.folder, ['--to', isoOf(fakeNow), ...trustArgs, '--json']);
    assert.equal(cli.code, 1, `verify must fail: ${cli.stdout}${cli.stderr}`);
    assert.ok(report, `JSON report: ${cli.stdout}${cli.stderr}`);
    for (const want of expected) {
      assert.ok(
        report.problems.some((p) => p.kind === want.kind && (want.key === undefined || p.key === want.key)),
        `expected ${want.kind}${want.key ? ` on ${want.key}` : ''}, got ${JSON.stringify(report.problems, null, 1)}`,
      );
    }
    return report;
  }

  async function withCopy(body: (copy: BucketCopy) => Promise<void>): Promise<void> {
    const copy = await copyBucket(h.bucketDir);
    try {
      await body(copy);
    } finally {
      await copy.remove();
    }
  }

  /** Digest Dn (1-based, oldest first) and a listed file of it. */
  function d(n: number): StoredDigest {
    const found = digests[n - 1];
    assert.ok(found, `digest D${n}`);
    return found;
  }
  function fileOf(n: number): string {
    const file = d(n).digest.log_files[0]?.object;
    assert.ok(file, `D${n} lists a file`);
    return file;
  }

  test('the untouched chain verifies: N/N digests and M/M files valid, exit 0', async () => {
    assert.equal(digests.length, CYCLES - 1, 'one digest per ended period');
    assert.deepEqual(
      digests.map((x) => x.digest.digest_end_time),
      [1, 2, 3, 4, 5, 6].map((m) => `2026-11-20T00-0${m}-00Z`),
    );
    assert.equal(d(1).digest.previous_digest_object, '', 'the starting digest has no previous');
    for (let n = 2; n <= digests.length; n++) {
      assert.equal(d(n).digest.previous_digest_object, d(n - 1).key);
      assert.equal(d(n).digest.previous_digest_signature, d(n - 1).signature);
      assert.equal(d(n).digest.digest_start_time, d(n - 1).digest.digest_end_time);
    }
    const listedFiles = digests.flatMap((x) => x.digest.log_files.map((f) => f.object));
    assert.ok(listedFiles.length >= 2 * (CYCLES - 1), `every digest lists files (${listedFiles.length})`);
    // The last cycle's files are delivered but not digested yet: the next digest will list them.
    const allFiles = await listTraceFiles(h.svc.service.runtime.objects, BUCKET);
    assert.ok(allFiles.length > listedFiles.length);

    const { cli } = await runVerify(h.bucketDir, ['--to', isoOf(fakeNow)]);
    assert.equal(cli.code, 0, cli.stdout + cli.stderr);
    assert.match(cli.stdout, new RegExp(`^${digests.length}/${digests.length} digest files valid$`, 'm'));
    assert.match(cli.stdout, new RegExp(`^${listedFiles.length}/${listedFiles.length} trace files valid$`, 'm'));

    // A pristine copy verifies clean too, trusting the keys either way: the copies below prove
    // detection, not a broken copy.
    await withCopy(async (copy) => {
      for (const trust of [
        ['--public-key', keysFile],
        ['--data-dir', h.svc.dataDir],
      ]) {
        const run = await runVerify(copy.folder, ['--to', isoOf(fakeNow), ...trust, '--json']);
        assert.equal(run.cli.code, 0, run.cli.stdout + run.cli.stderr);
        assert.deepEqual(run.report?.problems, []);
        assert.deepEqual(run.report?.digests, { valid: digests.length, total: digests.length });
        assert.deepEqual(run.report?.files, { valid: listedFiles.length, total: listedFiles.length });
      }
    });
  });

  test('flip a byte in a trace file → file-modified', async () => {
    await withCopy(async (copy) => {
      const key = fileOf(3);
      const file = path.join(copy.folder, key);
      const bytes = await readFile(file);
      const at = bytes.length >> 1;
      bytes.writeUInt8(bytes.readUInt8(at) ^ 0x01, at);
      await writeFile(file, bytes);
      await expectDetected(copy, [{ kind: 'file-modified', key }]);
    });
  });

  test('delete a trace file → file-missing', async () => {
    await withCopy(async (copy) => {
      const key = fileOf(2);
      await copy.objects.deleteObject(copy.bucket, key);
      await expectDetected(copy, [{ kind: 'file-missing', key }], 'data-dir');
    });
  });

  test('add a rogue trace file in an already-digested period → file-not-listed', async () => {
    await withCopy(async (copy) => {
      // Named like a real file of the cycle at 00:02:30, whose period D3 has already closed.
      const key =
        `CloudTraces/local-1/2026/11/20/system/ECS/pre_CloudTrace_local-1_2026-11-20T00-02-30Z_` +
        `${randomBytes(8).toString('hex')}.json.gz`;
      const rogue = [
        {
          trace_id: '00000000-0000-7000-8000-000000000000',
          trace_name: 'deleteServer',
          trace_rating: 'normal',
          trace_type: 'ApiCall',
          event_type: 'system',
          tracker_name: 'system',
          project_id: h.admin.project_id,
          domain_id: h.admin.domain_id,
          service_type: 'ECS',
          resource_type: 'ecs',
          time: FAKE_START_MS + 150_000,
          record_time: FAKE_START_MS + 150_000,
          user: JSON.stringify({ name: 'mallory' }),
          code: 200,
        },
      ];
      await copy.objects.putObject({
        bucket: copy.bucket,
        key,
        body: gzipSync(JSON.stringify(rogue)),
        contentType: 'application/json',
        contentEncoding: 'gzip',
      });
      await expectDetected(copy, [{ kind: 'file-not-listed', key }]);
    });
  });

  test('truncate a gzip trace file → file-modified', async () => {
    await withCopy(async (copy) => {
      const key = fileOf(4);
      const file = path.join(copy.folder, key);
      const { length } = await readFile(file);
      await truncate(file, length >> 1);
      await expectDetected(copy, [{ kind: 'file-modified', key }]);
    });
  });

  test('delete a middle digest → digest-missing, older digests not in chain', async () => {
    await withCopy(async (copy) => {
      await copy.objects.deleteObject(copy.bucket, d(3).key);
      const report = await expectDetected(copy, [
        { kind: 'digest-missing', key: d(3).key },
        { kind: 'digest-not-in-chain', key: d(2).key },
        { kind: 'digest-not-in-chain', key: d(1).key },
      ]);
      assert.deepEqual(report.gaps, [{ from: d(3).key, to: d(4).key }]);
    });
  });

  test('move a digest (the newest, to a later valid digest name) → digest-moved', async () => {
    await withCopy(async (copy) => {
      // The signature still verifies (it covers the digest's own digest_object): only the
      // location check catches a digest presented as a later one, e.g. to look fresh.
      const moved = digestKeyAt(FAKE_START_MS + 7 * PERIOD_MS);
      await putDigest(copy.objects, copy.bucket, moved, d(6).bytes, d(6).signature);
      await copy.objects.deleteObject(copy.bucket, d(6).key);
      await expectDetected(copy, [{ kind: 'digest-moved', key: moved }]);
    });
  });

  test('move a digest (a middle one, to an unused valid digest name) → digest-missing', async () => {
    await withCopy(async (copy) => {
      const moved = digestKeyAt(FAKE_START_MS + 3 * PERIOD_MS + 30_000);
      await putDigest(copy.objects, copy.bucket, moved, d(3).bytes, d(3).signature);
      await copy.objects.deleteObject(copy.bucket, d(3).key);
      await expectDetected(copy, [
        { kind: 'digest-missing', key: d(3).key },
        { kind: 'digest-not-in-chain', key: moved },
      ]);
    });
  });

  for (const fingerprint of ['attacker', 'original'] as const) {
    test(`edit a digest (drop a log file) and re-sign with another key, ${fingerprint} fingerprint → ${
      fingerprint === 'attacker' ? 'digest-untrusted-key' : 'digest-signature'
    }`, async () => {
      await withCopy(async (copy) => {
        const mallory = attackerKey();
        const target = d(3);
        const [dropped, ...kept] = target.digest.log_files;
        assert.ok(dropped);
        const edited: Digest = {
          ...target.digest,
          log_files: kept,
          digest_public_key_fingerprint:
            fingerprint === 'attacker' ? mallory.fingerprint : target.digest.digest_public_key_fingerprint,
        };
        const { bytes, signature } = mallory.sign(edited);
        await putDigest(copy.objects, copy.bucket, target.key, bytes, signature);
        // The file the digest no longer lists goes too, as an attacker hiding it would do.
        await copy.objects.deleteObject(copy.bucket, dropped.object);
        await expectDetected(copy, [
          { kind: fingerprint === 'attacker' ? 'digest-untrusted-key' : 'digest-signature', key: target.key },
          { kind: 'digest-link', key: target.key },
        ]);
      });
    });
  }

  test('edit a digest (drop a log file), re-signed, file kept → file-not-listed too', async () => {
    await withCopy(async (copy) => {
      const mallory = attackerKey();
      const target = d(2);
      const [dropped, ...kept] = target.digest.log_files;
      assert.ok(dropped);
      const { bytes, signature } = mallory.sign({ ...target.digest, log_files: kept });
      await putDigest(copy.objects, copy.bucket, target.key, bytes, signature);
      await expectDetected(copy, [
        { kind: 'digest-signature', key: target.key },
        { kind: 'file-not-listed', key: dropped.object },
      ]);
    });
  });

  test('reorder the chain (swap two digests, contents and metadata) → digest-moved', async () => {
    await withCopy(async (copy) => {
      await putDigest(copy.objects, copy.bucket, d(2).key, d(4).bytes, d(4).signature);
      await putDigest(copy.objects, copy.bucket, d(4).key, d(2).bytes, d(2).signature);
      await expectDetected(copy, [{ kind: 'digest-moved', key: d(4).key }]);
    });
  });

  test('reorder the chain (swap two adjacent digests) → digest-moved', async () => {
    await withCopy(async (copy) => {
      await putDigest(copy.objects, copy.bucket, d(4).key, d(5).bytes, d(5).signature);
      await putDigest(copy.objects, copy.bucket, d(5).key, d(4).bytes, d(4).signature);
      // The walk from D6 reaches the D4 content at D5's key and follows it back to D3: D4's key
      // (now D5's content) is off the chain.
      await expectDetected(copy, [
        { kind: 'digest-link', key: d(5).key },
        { kind: 'digest-moved', key: d(5).key },
        { kind: 'digest-gap', key: d(6).key },
        { kind: 'digest-not-in-chain', key: d(4).key },
      ]);
    });
  });

  test('remove the newest digest → chain-stale at --to the fake now', async () => {
    await withCopy(async (copy) => {
      await copy.objects.deleteObject(copy.bucket, d(6).key);
      const report = await expectDetected(copy, [{ kind: 'chain-stale', key: d(5).key }]);
      assert.deepEqual(
        report.problems.map((p) => p.kind),
        ['chain-stale'],
        'the rest of the chain is intact',
      );
    });
  });

  for (const fingerprint of ['attacker', 'original'] as const) {
    test(`forge a gap (delete a digest and its files, relink the next one, re-signed, ${fingerprint} fingerprint) → ${
      fingerprint === 'attacker' ? 'digest-untrusted-key' : 'digest-signature'
    } + digest-link`, async () => {
      await withCopy(async (copy) => {
        const mallory = attackerKey();
        const [before, gone, next] = [d(2), d(3), d(4)];
        for (const f of gone.digest.log_files) await copy.objects.deleteObject(copy.bucket, f.object);
        await copy.objects.deleteObject(copy.bucket, gone.key);
        const relinked: Digest = {
          ...next.digest,
          digest_start_time: before.digest.digest_end_time, // no visible time gap
          previous_digest_object: before.key,
          previous_digest_hash_value: sha256Hex(before.bytes),
          previous_digest_signature: before.signature,
          digest_public_key_fingerprint:
            fingerprint === 'attacker' ? mallory.fingerprint : next.digest.digest_public_key_fingerprint,
        };
        const { bytes, signature } = mallory.sign(relinked);
        await putDigest(copy.objects, copy.bucket, next.key, bytes, signature);
        const report = await expectDetected(copy, [
          { kind: fingerprint === 'attacker' ? 'digest-untrusted-key' : 'digest-signature', key: next.key },
          // D5 recorded the real D4's hash and signature.
          { kind: 'digest-link', key: next.key },
        ]);
        assert.ok(!report.problems.some((p) => p.kind === 'digest-missing'), 'the relink itself is consistent');
      });
    });
  }

  test("replace a digest's metadata signature with the previous digest's → digest-signature + digest-link", async () => {
    await withCopy(async (copy) => {
      await putDigest(copy.objects, copy.bucket, d(3).key, d(3).bytes, d(2).signature);
      await expectDetected(copy, [
        { kind: 'digest-signature', key: d(3).key },
        { kind: 'digest-link', key: d(3).key },
      ]);
    });
  });

  test('replace the starting digest with a re-signed one claiming a previous digest → digest-signature', async () => {
    await withCopy(async (copy) => {
      const mallory = attackerKey();
      const { bytes, signature } = mallory.sign({ ...d(1).digest, log_files: [] });
      await putDigest(copy.objects, copy.bucket, d(1).key, bytes, signature);
      await expectDetected(copy, [
        { kind: 'digest-signature', key: d(1).key },
        { kind: 'digest-link', key: d(1).key },
      ]);
    });
  });

  test('delete every digest (files kept) → digest-missing', async () => {
    await withCopy(async (copy) => {
      for (const x of digests) await copy.objects.deleteObject(copy.bucket, x.key);
      await expectDetected(copy, [{ kind: 'digest-missing' }]);
    });
  });

  test('replace the newest digest with gzip JSON that is no digest (null) → digest-unreadable', async () => {
    await withCopy(async (copy) => {
      await putDigest(copy.objects, copy.bucket, d(6).key, gzipSync('null'), d(6).signature);
      await expectDetected(copy, [{ kind: 'digest-unreadable', key: d(6).key }]);
    });
  });

  test('a forged digest naming keys the store refuses (../x, empty) is reported, not a crash', async () => {
    await withCopy(async (copy) => {
      const mallory = attackerKey();
      const { bytes, signature } = mallory.sign({
        ...d(6).digest,
        previous_digest_object: '../outside',
        log_files: [
          { ...d(6).digest.log_files[0]!, object: '../../etc/passwd' },
          { ...d(6).digest.log_files[0]!, object: '' },
        ],
      });
      await putDigest(copy.objects, copy.bucket, d(6).key, bytes, signature);
      await expectDetected(copy, [
        { kind: 'digest-signature', key: d(6).key },
        { kind: 'digest-missing', key: '../outside' },
        { kind: 'file-missing', key: '../../etc/passwd' },
        { kind: 'file-missing', key: '' },
      ]);
    });
  });

  test("garbage in a digest's metadata file → digest-signature + digest-link, not a crash", async () => {
    await withCopy(async (copy) => {
      await writeFile(path.join(copy.folder, '.opencts-metadata', `${d(4).key}.json`), '{"metadata": {"signature": "');
      await expectDetected(copy, [
        { kind: 'digest-signature', key: d(4).key },
        { kind: 'digest-link', key: d(4).key },
      ]);
    });
  });

  test('strip the signature metadata of a digest → digest-signature', async () => {
    await withCopy(async (copy) => {
      await rm(path.join(copy.folder, '.opencts-metadata', `${d(4).key}.json`));
      await expectDetected(copy, [
        { kind: 'digest-signature', key: d(4).key },
        { kind: 'digest-link', key: d(4).key },
      ]);
    });
  });
});
