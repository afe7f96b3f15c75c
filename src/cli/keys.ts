/** `opencts keys list|rotate`: the digest signing keys of a data dir. */
import type { Command } from 'commander';
import { table } from './format.js';
import { withRuntime } from './local-store.js';
import { dataDirOption, storeOption } from './options.js';

export function registerKeyCommands(program: Command): void {
  const keys = program.command('keys').description('digest signing keys (RSA-2048, SHA256withRSA)');

  keys
    .command('list')
    .description('list the public keys that verify digests (retired keys included)')
    .addOption(dataDirOption())
    .addOption(storeOption())
    .option('--json', 'print JSON')
    .action(async (flags: { dataDir?: string; store?: string; json?: boolean }) => {
      const list = await withRuntime(flags, async (rt) => {
        await rt.keys.current(); // created on first use
        return rt.keys.list();
      });
      if (flags.json) {
        console.log(JSON.stringify(list));
        return;
      }
      console.log(
        table(
          list.map((k) => ({
            fingerprint: k.fingerprint,
            created: new Date(k.created_at).toISOString(),
            status: k.retired_at === null ? 'signing' : `retired ${new Date(k.retired_at).toISOString()}`,
          })),
        ),
      );
    });

  keys
    .command('rotate')
    .description('create a new signing key; the old ones stay listed to verify older digests')
    .addOption(dataDirOption())
    .addOption(storeOption())
    .option('--json', 'print JSON')
    .action(async (flags: { dataDir?: string; store?: string; json?: boolean }) => {
      const created = await withRuntime(flags, (rt) => rt.keys.rotate());
      console.log(flags.json ? JSON.stringify(created) : `new signing key ${created.fingerprint}`);
    });
}
