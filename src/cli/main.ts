/** `opencts` command line (commander). Command names and flags are stable: scripts rely on them. */
import { Command } from 'commander';
import { registerCredentialCommands } from './credentials.js';
import { registerDoctorCommand } from './doctor.js';
import { registerKeyCommands } from './keys.js';
import { registerMigrateCommand } from './migrate.js';
import { registerServeCommand } from './serve.js';
import { registerVerifyCommand } from './verify.js';
import { registerUserCommands } from './users.js';
import { registerTraceCommands } from './traces.js';
import { registerTrackerCommands } from './trackers.js';
import { registerTopicCommands } from './topics.js';

export function buildProgram(): Command {
  const program = new Command('opencts')
    .description('OpenCTS: a self-hostable Cloud Trace Service (CTS v3 API)')
    .version('0.1.0')
    .showHelpAfterError();
  registerServeCommand(program);
  registerCredentialCommands(program);
  registerUserCommands(program);
  registerKeyCommands(program);
  registerVerifyCommand(program);
  registerTrackerCommands(program);
  registerTraceCommands(program);
  registerTopicCommands(program);
  registerMigrateCommand(program);
  registerDoctorCommand(program);
  return program;
}

const isEntryPoint = import.meta.url.endsWith('/cli/main.js');
if (isEntryPoint) {
  buildProgram()
    .parseAsync(process.argv)
    .catch((err: unknown) => {
      console.error(`opencts: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    });
}
