/** Commands that administer a data dir directly (keys, users, tokens) open it through here. */
import { resolveConfig } from '../config.js';
import { openRuntime, type Runtime } from '../runtime.js';

export async function withRuntime<T>(dataDir: string | undefined, work: (runtime: Runtime) => Promise<T>): Promise<T> {
  const config = resolveConfig({ flags: { dataDir } });
  const runtime = await openRuntime(config);
  try {
    return await work(runtime);
  } finally {
    await runtime.close();
  }
}
