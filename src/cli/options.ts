/** Options shared by several commands. */
import { InvalidArgumentError, Option } from 'commander';

export function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError('not a port number');
  return port;
}

export function dataDirOption(): Option {
  return new Option('--data-dir <dir>', 'data directory (default ./data; env OPENCTS_DATA_DIR)');
}

export function storeOption(): Option {
  return new Option(
    '--store <sqlite|postgres://…>',
    'where the state lives (default sqlite: <data-dir>/opencts.db; env OPENCTS_STORE)',
  );
}
