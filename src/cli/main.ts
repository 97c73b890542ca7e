/**
 * `calitune` entry point: finds the command, parses its flags, runs it, maps errors to exit
 * codes (0 ok, 1 runtime failure, 2 bad usage or input) without stack traces for user errors.
 */
import '../models/all.js';
import { parseArgs } from 'node:util';
import { isInputError, isUserError } from '../util/errors.js';
import { consoleReporter } from '../pipeline/reporter.js';
import type { Command, CommandContext } from './command.js';
import { cliNaming } from './naming.js';
import { commands } from './registry.js';

const GLOBAL_HELP = (list: Command[]) => `calitune — calibrated recommendations at no extra inference cost (CaliTune)

Usage: calitune <command> [options]

Commands:
${list.map((c) => `  ${c.name.padEnd(14)} ${c.summary}`).join('\n')}

Every command takes --help (with an example) and --json (machine-readable summary on stdout).
Exit codes: 0 success, 1 runtime failure, 2 bad usage or bad input.

Start with:  calitune demo`;

/** `calitune runs --help`: the group's subcommands, one line each. */
function groupHelp(group: string, commands: readonly Command[]): string {
  const w = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`);
  return (
    `Usage: calitune ${group} <subcommand> [options]\n\nSubcommands:\n${lines.join('\n')}\n\n` +
    `Run 'calitune ${group} <subcommand> --help' for one subcommand's options and an example.\n`
  );
}

/** Runs the CLI on `argv` (without node and script) and returns the exit code: 0 ok, 1 failure, 2 bad input. */
export async function run(argv: string[]): Promise<number> {
  const list = commands();
  // Two-word commands (e.g. `data stats`) are registered with their full name.
  let cmd: Command | undefined;
  let rest: string[] = argv;
  if (argv.length >= 2) cmd = list.find((c) => c.name === `${argv[0]} ${argv[1]}`);
  if (cmd) rest = argv.slice(2);
  else if (argv.length >= 1) {
    cmd = list.find((c) => c.name === argv[0]);
    rest = argv.slice(1);
  }
  if (!cmd) {
    if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
      console.log(GLOBAL_HELP(list));
      return argv.length === 0 ? 2 : 0;
    }
    if (argv[0] === '--version') {
      console.log('calitune 0.1.0');
      return 0;
    }
    const group = list.filter((c) => c.name.startsWith(`${argv[0]} `));
    if (group.length > 0 && (argv[1] === '--help' || argv[1] === '-h')) {
      console.log(groupHelp(argv[0]!, group));
      return 0;
    }
    if (group.length > 0) {
      console.error(`calitune ${argv[0]}: needs a subcommand: ${group.map((c) => c.name).join(', ')}`);
    } else {
      console.error(`calitune: unknown command '${argv[0]}'. Run 'calitune --help' for the list.`);
    }
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(`Usage: calitune ${cmd.usage}\n\n${cmd.summary}\n\n${cmd.help.trim()}\n`);
    return 0;
  }
  let values: Record<string, unknown>;
  let positionals: string[];
  try {
    const parsed = parseArgs({
      args: rest,
      options: { ...cmd.options, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: cmd.positionals ?? false,
      strict: true,
    });
    values = parsed.values as Record<string, unknown>;
    positionals = parsed.positionals;
  } catch (e) {
    console.error(`calitune ${cmd.name}: ${(e as Error).message}\nRun 'calitune ${cmd.name} --help' for usage.`);
    return 2;
  }
  const json = values.json === true;
  const showProgress = process.env.CALITUNE_QUIET !== '1';
  const ctx: CommandContext = { json, showProgress, ...consoleReporter({ info: !json, progress: showProgress }) };
  try {
    const summary = await cmd.run(values as never, positionals, ctx);
    if (json) process.stdout.write(JSON.stringify(summary ?? {}, null, 2) + '\n');
    return 0;
  } catch (e) {
    if (isUserError(e)) {
      console.error(`calitune ${cmd.name}: ${isInputError(e) ? e.render(cliNaming(cmd, list)) : e.message}`);
      return 2;
    }
    const err = e as Error;
    console.error(`calitune ${cmd.name}: failed: ${err?.message ?? String(e)}`);
    if (process.env.CALITUNE_DEBUG === '1' && err?.stack) console.error(err.stack);
    else console.error('(set CALITUNE_DEBUG=1 for a stack trace)');
    return 1;
  }
}
