/**
 * Seeds of the property tests: fixed by default so CI is reproducible, overridable with
 * OPENCTS_FUZZ_SEED to explore (or to replay a failure another run printed).
 */
import fc from 'fast-check';

export const FUZZ_SEED_ENV = 'OPENCTS_FUZZ_SEED';

export function fuzzSeed(defaultSeed: number): number {
  const raw = process.env[FUZZ_SEED_ENV];
  if (raw === undefined || raw === '') return defaultSeed;
  const seed = Number(raw);
  if (!Number.isInteger(seed)) throw new Error(`${FUZZ_SEED_ENV} must be an integer, got ${JSON.stringify(raw)}`);
  return seed | 0; // fast-check seeds are 32-bit integers
}

/** fc.assert, with the seed and how to replay it in the failure message. */
export async function assertProperty<Ts>(
  property: fc.IAsyncProperty<Ts>,
  params: fc.Parameters<Ts> & { seed: number },
): Promise<void> {
  try {
    await fc.assert(property, params);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // fast-check keeps the property's own error as the cause: show it first, it says what broke.
    const cause = err instanceof Error && err.cause instanceof Error ? `${err.cause.message}\n\n` : '';
    throw new Error(
      `property failed with seed ${params.seed} (replay: ${FUZZ_SEED_ENV}=${params.seed})\n${cause}${message}`,
      { cause: err },
    );
  }
}
