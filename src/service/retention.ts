/** The background retention purge: traces older than the queryable window are removed. */
import type { Logger } from 'pino';
import type { TraceService } from './trace-service.js';

export interface BackgroundTask {
  /** Stops scheduling and waits for a run in progress. */
  stop(): Promise<void>;
}

export function startRetentionPurge(traces: TraceService, intervalMs: number, logger: Logger): BackgroundTask {
  let running: Promise<void> | undefined;
  const run = () => {
    if (running) return;
    running = traces
      .purgeExpired()
      .then((removed) => {
        if (removed > 0) logger.info({ removed }, 'retention purge removed expired traces');
      })
      .catch((err: unknown) => logger.error({ err }, 'retention purge failed'))
      .finally(() => {
        running = undefined;
      });
  };
  const timer = setInterval(run, intervalMs);
  timer.unref();
  run();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
