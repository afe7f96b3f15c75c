/**
 * `opencts doctor`: every check, in an order where each can rely on the ones before it; a check
 * whose prerequisite failed says so instead of passing. It opens the store only when its schema
 * is exactly the known one and a master key is there, so it never migrates a database nor makes
 * a key.
 */
import { ConfigError, resolveConfig, type Config, type ConfigSources } from '../config.js';
import { describeObjectStore } from '../delivery/open-object-store.js';
import { describeStore, openStore } from '../store/open-store.js';
import type { SecretBox } from '../store/secret-box.js';
import type { Store } from '../store/store.js';
import { errorMessage, fail, notChecked, ok, type CheckResult } from './check.js';
import { checkDatabaseClock, checkLocalClock } from './clock-checks.js';
import { checkMasterKey, checkSecrets, checkSigningKey, describeOpenFailure } from './key-checks.js';
import { checkBuckets, checkObjectStore } from './object-store-checks.js';
import { checkStore } from './store-checks.js';
import { checkDeliveryLag, checkTrackerStatus } from './tracker-checks.js';

export interface DoctorReport {
  /** No check failed (warnings allowed). */
  readonly ok: boolean;
  readonly checks: readonly CheckResult[];
}

export async function runDoctor(sources: ConfigSources): Promise<DoctorReport> {
  const checks: CheckResult[] = [];
  let config: Config;
  try {
    config = resolveConfig(sources);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    checks.push(fail('config', errorMessage(err), 'fix the setting named (flag, OPENCTS_* variable or config file)'));
    return report(checks);
  }
  checks.push(ok('config', `${describeStore(config)}; object store ${describeObjectStore(config)}`));

  const env = sources.env ?? process.env;
  const store = await checkStore(config);
  checks.push(...store.results);
  const masterKey = checkMasterKey(config.dataDir, env);
  checks.push(masterKey.result);

  let opened: { store: Store; secrets: SecretBox } | undefined;
  if (!store.usable) {
    checks.push(notChecked('secrets', 'the store is not usable as it is'));
  } else if (!masterKey.usable) {
    checks.push(notChecked('secrets', 'no usable master key'));
  } else {
    try {
      opened = await openStore(config);
      checks.push(await checkSecrets(opened.store));
    } catch (err) {
      checks.push(describeOpenFailure(err));
    }
  }
  try {
    const trackers = opened ? await opened.store.listAllTrackers() : undefined;
    checks.push(
      opened ? await checkSigningKey(opened.store, opened.secrets) : notChecked('signing-key', 'the store is not open'),
    );
    const objects = await checkObjectStore(config);
    checks.push(objects.result);
    try {
      checks.push(await checkBuckets(objects.objects, trackers));
    } finally {
      objects.objects?.close?.();
    }
    const now = Date.now();
    let newestRecordTime: number | undefined;
    if (opened && trackers) {
      checks.push(checkTrackerStatus(trackers));
      const lag = await checkDeliveryLag(opened.store, trackers, config.flushIntervalMs, now);
      checks.push(lag.result);
      newestRecordTime = lag.newestRecordTime;
    } else {
      checks.push(notChecked('trackers', 'the store is not open'), notChecked('delivery-lag', 'the store is not open'));
    }
    checks.push(checkLocalClock(now, newestRecordTime));
    if (store.probe?.clock) checks.push(checkDatabaseClock(store.probe.clock));
  } finally {
    await opened?.store.close();
  }
  return report(checks);
}

function report(checks: CheckResult[]): DoctorReport {
  return { ok: checks.every((c) => c.status !== 'fail'), checks };
}
