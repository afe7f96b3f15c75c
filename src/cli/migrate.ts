/**
 * `opencts migrate [--store URL] [--data-dir DIR]`: creates or upgrades the store's schema and
 * exits. Safe while instances run and when several run it at once (PostgreSQL: advisory lock).
 */
import { mkdir } from 'node:fs/promises';
import type { Command } from 'commander';
import { resolveConfig } from '../config.js';
import { describeStore, isPostgres, migrateStore } from '../store/open-store.js';
import { dataDirOption, storeOption } from './options.js';

export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('create or upgrade the store schema, then exit')
    .addOption(dataDirOption())
    .addOption(storeOption())
    .option('--json', 'print JSON')
    .action(async (flags: { dataDir?: string; store?: string; json?: boolean }) => {
      const config = resolveConfig({ flags: { dataDir: flags.dataDir, store: flags.store } });
      if (!isPostgres(config.store)) await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
      const result = await migrateStore(config);
      if (flags.json) {
        console.log(JSON.stringify(result));
        return;
      }
      const applied = result.applied.length > 0 ? `applied ${result.applied.join(', ')}` : 'nothing to apply';
      console.log(`${describeStore(config)}: schema version ${result.version} (${applied})`);
    });
}
