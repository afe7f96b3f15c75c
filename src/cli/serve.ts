/** `opencts serve`: run the service until SIGTERM/SIGINT, then shut down gracefully. */
import { Option, type Command } from 'commander';
import { DURABILITY_LEVELS, resolveConfig, type ConfigSources, type Durability } from '../config.js';
import { createLogger, startService } from '../runtime.js';
import { describeStore } from '../store/open-store.js';
import { dataDirOption, parsePort, storeOption } from './options.js';

interface ServeFlags {
  dataDir?: string;
  host?: string;
  port?: number;
  config?: string;
  region?: string;
  logLevel?: string;
  durability?: Durability;
  tlsCert?: string;
  tlsKey?: string;
  flushInterval?: string;
  digestInterval?: string;
  objectStore?: string;
  s3Endpoint?: string;
  store?: string;
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('start the OpenCTS service')
    .addOption(dataDirOption())
    .addOption(storeOption())
    .option('--host <host>', 'address to listen on (default 127.0.0.1; env OPENCTS_HOST)')
    .option('--port <port>', 'port to listen on (default 8080; env OPENCTS_PORT)', parsePort)
    .option('--config <file>', 'JSON configuration file (env OPENCTS_CONFIG)')
    .option('--region <name>', 'region name used in bucket locations (default local-1)')
    .option('--tls-cert <file>', 'PEM certificate: serve HTTPS (with --tls-key; env OPENCTS_TLS_CERT)')
    .option('--tls-key <file>', 'PEM private key for --tls-cert (env OPENCTS_TLS_KEY)')
    .option('--flush-interval <duration>', 'how often traces are written to buckets, 1s–1h (default 60s)')
    .option('--digest-interval <duration>', 'digest period of validating trackers, 60s–1d (default 1h)')
    .option(
      '--object-store <fs|s3://[host:port]>',
      'where trace files go (default fs: <data-dir>/buckets; env OPENCTS_OBJECT_STORE)',
    )
    .option('--s3-endpoint <url>', 'S3 endpoint, e.g. http://127.0.0.1:9000 (env OPENCTS_S3_ENDPOINT)')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (default info)')
    .addOption(
      new Option('--durability <level>', 'normal: survives a process crash; full: also a power loss').choices(
        DURABILITY_LEVELS,
      ),
    )
    .action(async (flags: ServeFlags) => {
      const { flushInterval, digestInterval, ...rest } = flags;
      const config = resolveConfig({
        flags: { ...rest, flushIntervalMs: flushInterval, digestIntervalMs: digestInterval } as ConfigSources['flags'],
      });
      const logger = createLogger(config);
      const service = await startService(config, logger);
      if (service.bootstrap) {
        console.log(
          `First start: created project ${service.bootstrap.credential.project_id} with an admin access key.`,
        );
        console.log(`Credentials written to ${service.bootstrap.file} (readable only by you).`);
      }
      // Printed last: scripts wait for this line.
      console.log(`OpenCTS listening on ${service.url} (data in ${config.dataDir}, ${describeStore(config)})`);
      const stop = (signal: string) => {
        logger.info({ signal }, 'shutting down');
        service.close().then(
          () => process.exit(0),
          (err: unknown) => {
            logger.error({ err }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
}
