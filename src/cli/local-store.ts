/** Commands that administer a data dir and its store directly (keys, users, tokens) open it through here. */
import { resolveConfig } from '../config.js';
import { openRuntime, type Runtime } from '../runtime.js';

export interface StoreFlags {
  readonly dataDir?: string | undefined;
  readonly store?: string | undefined;
}

export async function withRuntime<T>(flags: StoreFlags, work: (runtime: Runtime) => Promise<T>): Promise<T> {
  const config = resolveConfig({ flags: { dataDir: flags.dataDir, store: flags.store } });
  const runtime = await openRuntime(config);
  try {
    return await work(runtime);
  } finally {
    await runtime.close();
  }
}
