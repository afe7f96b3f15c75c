/**
 * Key-event notification delivery is at-least-once across SIGKILL (src/notify/notifier.ts):
 * `opencts serve` runs as a real child process on one data dir whose topic was registered with the
 * stable CLI command (`opencts topics create`) and points at a webhook in this process; a
 * customized notification reports one of two trace names; the webhook answers each message after
 * ANSWER_DELAY_MS, so the server usually has messages waiting for their answer. Ingest loops report
 * matching and non-matching traces while the process is killed with SIGKILL again and again: at a
 * random moment (even runs) or while the webhook holds a message unanswered (odd runs: the server
 * sent it and has not moved its cursor past it).
 * A last start ingests nothing and runs until the webhook has everything, then stops with SIGTERM.
 *
 * Then, for every matching trace the server recorded (ListTraces after the last start: the
 * acknowledged ones and those of calls in flight at a kill that committed):
 *  - it reached the webhook at least once, signed with the topic secret;
 *  - every copy carries the same idempotency key `trace_id:notification_id`, so the receiver can
 *    drop the repeats (duplicates are counted and reported);
 * and no non-matching trace was ever sent. "A kill during delivery" is a kill while acknowledged
 * matching traces had not reached the webhook yet or a message was waiting for its answer; at least
 * MIN_KILLS_DURING_DELIVERY must be.
 *
 * Set OPENCTS_KILL_SEED to replay the random kill delays.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { runCli } from '../support/cli.js';
import {
  createKey,
  errorLines,
  killAllAndWait,
  listAllSystemTraces,
  seededRandom,
  serve,
  stopWith,
} from '../support/kill-harness.js';
import { makeTempDir } from '../support/service.js';
import { signedFetch, type SigningKey } from '../support/signed-fetch.js';
import { startWebhookReceiver, type ReceivedMessage } from '../support/webhook-receiver.js';

const IDS = { projectId: '5e1f0c0ffee0000000000000000de11f', domainId: 'd0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d2' };
const TOPIC = `urn:smn:local-1:${IDS.projectId}:kill_topic`;
const MATCHING = 'rebootServer';
const OTHER = 'listServers';
const MIN_RUNS = 10;
const MAX_RUNS = 14;
const EXTRA_RUNS_BUDGET_MS = 60_000;
const KILL_DELAY_MIN_MS = 400;
const KILL_DELAY_MAX_MS = 2500;
const LOOPS = 2;
const BATCH = 20;
const PAUSE_MS = 30;
const MIN_KILLS_DURING_DELIVERY = 3;
const CATCH_UP_TIMEOUT_MS = 30_000;
const ANSWER_DELAY_MS = 5;

interface Message {
  notification_id: string;
  trace: { trace_id: string; trace_name: string; request_id?: string };
}

function ingestBody(call: string) {
  return {
    traces: Array.from({ length: BATCH }, (_, i) => ({
      time: Date.now(),
      user: { name: 'alice', id: 'u-alice', domain: { id: IDS.domainId, name: 'acme' } },
      service_type: 'ECS',
      resource_type: 'ecs',
      resource_id: `${call}-${i}`,
      trace_name: i % 2 === 0 ? MATCHING : OTHER,
      trace_rating: 'normal',
      trace_type: 'ApiCall',
      request_id: `${call}-t${i}`,
      code: 200,
    })),
  };
}

test(
  'notification delivery survives repeated SIGKILL: every matching trace reaches the webhook at least once, repeats share the idempotency key',
  { timeout: 240_000 },
  async (t) => {
    const seed = Number(process.env['OPENCTS_KILL_SEED'] ?? Math.floor(Math.random() * 2 ** 32));
    t.diagnostic(`seed ${seed} (OPENCTS_KILL_SEED to replay)`);
    const random = seededRandom(seed);
    const began = Date.now();
    const dataDir = await makeTempDir('opencts-kill-notify-');
    const hook = await startWebhookReceiver('/hook', { answerDelayMs: ANSWER_DELAY_MS });
    try {
      const admin = await createKey(dataDir, IDS, 'kim', 'admin');
      const reporter = await createKey(dataDir, IDS, 'ecs-service', 'service');
      const topic = await runCli([
        'topics',
        'create',
        '--data-dir',
        dataDir,
        '--project-id',
        IDS.projectId,
        '--urn',
        TOPIC,
        '--url',
        hook.url,
        '--json',
      ]);
      assert.equal(topic.code, 0, topic.stderr);
      const secret = (JSON.parse(topic.stdout) as { secret: string }).secret;

      const acked = new Set<string>(); // matching trace ids the server acknowledged
      const serverErrors: string[] = [];
      let notificationId = '';
      let killsDuringDelivery = 0;
      const received = () => new Set(hook.messages.map((m) => (JSON.parse(m.body) as Message).trace.trace_id));
      const runs: string[] = [];

      for (let run = 0; run < MAX_RUNS; run++) {
        if (
          run >= MIN_RUNS &&
          (killsDuringDelivery >= MIN_KILLS_DURING_DELIVERY || Date.now() - began > EXTRA_RUNS_BUDGET_MS)
        ) {
          break;
        }
        const served = await serve(dataDir);
        if (run === 0) {
          const tracker = await signedFetch(served.url, admin, {
            path: `/v3/${IDS.projectId}/tracker`,
            body: { tracker_type: 'system', tracker_name: 'system' },
          });
          assert.equal(tracker.status, 201, tracker.text);
          const n = await signedFetch(served.url, admin, {
            path: `/v3/${IDS.projectId}/notifications`,
            body: {
              notification_name: 'reboots',
              operation_type: 'customized',
              operations: [{ service_type: 'ECS', resource_type: 'ecs', trace_names: [MATCHING] }],
              filter: { condition: 'AND', is_support_filter: true, rule: ['trace_rating != incident'] },
              topic_id: TOPIC,
            },
          });
          assert.equal(n.status, 201, n.text);
          notificationId = (n.json as { notification_id: string }).notification_id;
        }
        let stop = false;
        const loops = Array.from({ length: LOOPS }, async (_, loop) => {
          for (let c = 0; !stop; c++) {
            const call = `r${run}-l${loop}-c${c}`;
            const body = ingestBody(call);
            try {
              const res = await signedFetch(served.url, reporter as SigningKey, {
                path: `/v3/${IDS.projectId}/traces`,
                body,
              });
              if (res.status === 201) {
                const ids = (res.json as { trace_ids: string[] }).trace_ids;
                ids.forEach((id, i) => {
                  if (body.traces[i]!.trace_name === MATCHING) acked.add(id);
                });
              }
            } catch {
              return; // the kill cut the connection: the call is in flight
            }
            await sleep(PAUSE_MS);
          }
        });
        const window = KILL_DELAY_MIN_MS + random() * (KILL_DELAY_MAX_MS - KILL_DELAY_MIN_MS);
        const onMessage = run % 2 === 1;
        await sleep(onMessage ? window / 2 : window);
        if (onMessage) {
          const until = Date.now() + window / 2;
          while (hook.inFlight() === 0 && Date.now() < until) await sleep(1);
        }
        const have = received();
        const backlog = [...acked].filter((id) => !have.has(id)).length;
        const unanswered = hook.inFlight();
        await stopWith(served, 'SIGKILL', 'SIGKILL');
        stop = true;
        await Promise.all(loops);
        if (backlog > 0 || unanswered > 0) killsDuringDelivery++;
        serverErrors.push(...errorLines(served.output()).map((line) => `run ${run}: ${line}`));
        runs.push(
          `run ${run}: killed ${onMessage ? 'after messages' : 'at random'} at ${Math.round(window)} ms, backlog ${backlog}, unanswered ${unanswered}, acked ${acked.size}, received ${hook.messages.length}`,
        );
      }

      const final = await serve(dataDir);
      let recorded: string[] = [];
      try {
        const all = await listAllSystemTraces(final.url, admin, began - 60_000);
        recorded = all.filter((tr) => tr.trace_name === MATCHING).map((tr) => tr.trace_id);
        const deadline = Date.now() + CATCH_UP_TIMEOUT_MS;
        while (Date.now() < deadline) {
          const have = received();
          if (recorded.every((id) => have.has(id))) break;
          await sleep(100);
        }
        await sleep(300); // a repeat still in flight lands before the checks
        await stopWith(final, 'SIGTERM', 0);
      } finally {
        serverErrors.push(...errorLines(final.output()).map((line) => `final: ${line}`));
      }
      for (const line of runs) t.diagnostic(line);

      const byTrace = new Map<string, ReceivedMessage[]>();
      for (const m of hook.messages) {
        const body = JSON.parse(m.body) as Message;
        assert.equal(body.trace.trace_name, MATCHING, 'only matching traces are sent');
        assert.equal(body.notification_id, notificationId);
        assert.equal(
          m.headers['x-opencts-signature'],
          `sha256=${createHmac('sha256', secret).update(m.body).digest('hex')}`,
          'signed with the topic secret',
        );
        byTrace.set(body.trace.trace_id, [...(byTrace.get(body.trace.trace_id) ?? []), m]);
      }
      const missing = recorded.filter((id) => !byTrace.has(id));
      assert.deepEqual(
        missing,
        [],
        `${missing.length} of ${recorded.length} recorded matching traces never reached the webhook`,
      );
      for (const id of acked) assert.ok(recorded.includes(id), `acknowledged trace ${id} is recorded`);
      let duplicates = 0;
      for (const [id, copies] of byTrace) {
        assert.ok(recorded.includes(id), `a sent trace ${id} is one the server recorded`);
        const keys = new Set(copies.map((m) => m.headers['idempotency-key']));
        assert.deepEqual([...keys], [`${id}:${notificationId}`], 'every copy has the same idempotency key');
        duplicates += copies.length - 1;
      }
      t.diagnostic(
        `${runs.length} kills (${killsDuringDelivery} with messages not yet delivered or answered); ${acked.size} acknowledged and ` +
          `${recorded.length} recorded matching traces; ${hook.messages.length} messages, ${duplicates} repeats ` +
          '(dropped by idempotency key)',
      );
      assert.ok(acked.size >= 100, `only ${acked.size} matching traces acknowledged`);
      assert.ok(runs.length >= MIN_RUNS);
      assert.ok(killsDuringDelivery >= MIN_KILLS_DURING_DELIVERY, `only ${killsDuringDelivery} kills during delivery`);
      assert.deepEqual(serverErrors, [], 'the server logged no errors');
    } finally {
      await killAllAndWait();
      await hook.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  },
);
