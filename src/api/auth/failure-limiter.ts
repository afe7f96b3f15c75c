/**
 * Failed authentications are counted per source address and per claimed access key
 * (@fastify/rate-limit does the counting); past the limit, further failures are answered 429 so
 * that guessing and log flooding get slow. A caller that signs correctly is never held back by
 * someone else's failures: only failures count, and only failures are refused.
 */
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Counter, type Registry } from 'prom-client';

export interface AuthFailureLimiter {
  /** Counts a failure; returns seconds to wait when the caller is over its limit, else undefined. */
  record(request: FastifyRequest, reason: string, claimedAccessKey: string | undefined): Promise<number | undefined>;
}

const WINDOW_MS = 60_000;

export async function createAuthFailureLimiter(
  app: FastifyInstance,
  registry: Registry,
  failuresPerMinute: number,
): Promise<AuthFailureLimiter> {
  await app.register(rateLimit, { global: false, max: failuresPerMinute, timeWindow: WINDOW_MS });
  const claimedKeys = new WeakMap<FastifyRequest, string>();
  const byAddress = app.createRateLimit({ keyGenerator: (request) => `ip:${request.ip}` });
  const byKey = app.createRateLimit({ keyGenerator: (request) => `ak:${claimedKeys.get(request) ?? ''}` });
  const failures = new Counter({
    name: 'opencts_auth_failures_total',
    help: 'Failed authentications, by reason',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const limited = new Counter({
    name: 'opencts_auth_rate_limited_total',
    help: 'Failed authentications answered 429 because their source or access key was over the limit',
    labelNames: ['by'] as const,
    registers: [registry],
  });
  return {
    async record(request, reason, claimedAccessKey) {
      failures.inc({ reason });
      let waitSeconds: number | undefined;
      const over = (result: Awaited<ReturnType<typeof byAddress>>, by: string) => {
        // isAllowed means "on the allow list": never limited.
        if (result.isAllowed || !result.isExceeded) return;
        limited.inc({ by });
        waitSeconds = Math.max(waitSeconds ?? 1, result.ttlInSeconds);
      };
      over(await byAddress(request), 'address');
      if (claimedAccessKey !== undefined) {
        claimedKeys.set(request, claimedAccessKey);
        over(await byKey(request), 'access_key');
      }
      return waitSeconds;
    },
  };
}
