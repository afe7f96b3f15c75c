/** Is the store there, does it answer, and is its schema the one this binary knows. */
import type { Config } from '../config.js';
import { describeStore } from '../store/open-store.js';
import { probeSchema, StoreMissingError, type SchemaProbe } from '../store/schema-probe.js';
import { errorMessage, fail, notChecked, octal, ok, warn, type CheckResult } from './check.js';

export interface StoreFindings {
  readonly results: CheckResult[];
  readonly probe?: SchemaProbe;
  /** The schema is exactly the known one: the store may be opened without migrating it. */
  readonly usable: boolean;
}

export async function checkStore(config: Config): Promise<StoreFindings> {
  const where = describeStore(config);
  let probe: SchemaProbe;
  try {
    probe = await probeSchema(config);
  } catch (err) {
    const result =
      err instanceof StoreMissingError
        ? fail(
            'store',
            errorMessage(err),
            'check --data-dir / OPENCTS_DATA_DIR (opencts serve or opencts migrate creates a new one)',
          )
        : fail(
            'store',
            `cannot reach ${where}: ${errorMessage(err)}`,
            'check --store / OPENCTS_STORE (host, port, database, user, password) and that the server runs',
          );
    return { results: [result, notChecked('migrations', 'the store is not reachable')], usable: false };
  }
  const store =
    probe.fileMode !== undefined && (probe.fileMode & 0o077) !== 0
      ? warn(
          'store',
          `${where} answers (${probe.engine}), but group/others may read it (mode ${octal(probe.fileMode)})`,
          `chmod 600 ${where.replace(/^SQLite /, '')}`,
        )
      : ok('store', `${where} answers (${probe.engine})`);
  const migrations = checkMigrations(probe);
  return { results: [store, migrations], probe, usable: migrations.status === 'ok' };
}

function checkMigrations(probe: SchemaProbe): CheckResult {
  const applied = new Set(probe.applied);
  const known = new Set(probe.known);
  const pending = probe.known.filter((v) => !applied.has(v));
  const unknown = probe.applied.filter((v) => !known.has(v));
  const latest = Math.max(...probe.known);
  if (unknown.length > 0) {
    return fail(
      'migrations',
      `the database has migrations this binary does not know (${unknown.join(', ')}): a newer OpenCTS upgraded it`,
      'run the OpenCTS version that upgraded the database (a schema is never downgraded)',
    );
  }
  if (pending.length > 0) {
    return fail(
      'migrations',
      applied.size === 0
        ? `the database has no OpenCTS schema yet (this binary's is version ${latest})`
        : `pending migrations ${pending.join(', ')} (this binary's schema is version ${latest})`,
      'run opencts migrate with the same --store / --data-dir (opencts serve also migrates on start)',
    );
  }
  return ok('migrations', `schema version ${latest}, all ${probe.known.length} migrations applied`);
}
