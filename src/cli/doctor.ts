/**
 * `opencts doctor`: checks the store, the keys, the object store, the trackers and the clocks of
 * a deployment and prints what is wrong with a fix for each. Exit 0 when no check failed.
 */
import type { Command } from 'commander';
import type { CheckResult } from '../doctor/check.js';
import { runDoctor } from '../doctor/run-doctor.js';
import { dataDirOption, storeOption } from './options.js';

interface DoctorFlags {
  dataDir?: string;
  store?: string;
  config?: string;
  objectStore?: string;
  s3Endpoint?: string;
  json?: boolean;
}

const LABEL: Record<CheckResult['status'], string> = { ok: 'ok', warn: 'WARN', fail: 'FAIL' };

function printText(checks: readonly CheckResult[]): void {
  const width = Math.max(...checks.map((c) => c.name.length));
  const indent = ' '.repeat(6 + width + 2);
  for (const check of checks) {
    console.log(`${LABEL[check.status].padEnd(6)}${check.name.padEnd(width)}  ${check.reason}`);
    for (const line of check.details ?? []) console.log(`${indent}- ${line}`);
    if (check.fix && check.status !== 'ok') console.log(`${indent}fix: ${check.fix}`);
  }
  const failed = checks.filter((c) => c.status === 'fail').length;
  const warned = checks.filter((c) => c.status === 'warn').length;
  console.log(
    failed === 0 && warned === 0
      ? `all ${checks.length} checks passed`
      : `${failed} failed, ${warned} warning${warned === 1 ? '' : 's'}, ${checks.length - failed - warned} ok`,
  );
}

export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description('check store, migrations, keys, object store, trackers and clocks; exit 1 if a check fails')
    .addOption(dataDirOption())
    .addOption(storeOption())
    .option('--config <file>', 'JSON configuration file (env OPENCTS_CONFIG)')
    .option(
      '--object-store <fs|s3://[host:port]>',
      'where trace files go (default fs: <data-dir>/buckets; env OPENCTS_OBJECT_STORE)',
    )
    .option('--s3-endpoint <url>', 'S3 endpoint, e.g. http://127.0.0.1:9000 (env OPENCTS_S3_ENDPOINT)')
    .option('--json', 'print JSON: {"ok":bool,"checks":[{"name","status","reason","fix"?,"details"?}]}')
    .action(async (flags: DoctorFlags) => {
      const { json, ...settings } = flags;
      const report = await runDoctor({ flags: settings });
      if (json) console.log(JSON.stringify(report));
      else printText(report.checks);
      process.exitCode = report.ok ? 0 : 1;
    });
}
