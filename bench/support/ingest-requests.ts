/**
 * The signed ingest calls the ingest benchmarks send: `POST /v3/{project}/traces` with the pool's
 * bodies round-robin, and the check that an answer recorded every trace of its batch.
 */
export function ingestRequests(projectId: string, bodies: readonly string[], batch: number) {
  const path = `/v3/${projectId}/traces`;
  let nextBody = 0;
  return {
    next: () => ({ method: 'POST' as const, path, body: bodies[nextBody++ % bodies.length]! }),
    /** An error text when the answer did not record all `batch` traces, else undefined. */
    check: (_status: number, body: string): string | undefined => {
      const ids = (JSON.parse(body) as { trace_ids?: Array<string | null> }).trace_ids;
      if (!ids || ids.length !== batch) return `answer without ${batch} trace ids: ${body.slice(0, 200)}`;
      return ids.includes(null) ? 'a trace was not recorded (null id)' : undefined;
    },
  };
}
