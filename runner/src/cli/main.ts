/** The `provium` command line: options and commands, nothing else. */
import { readFileSync, writeFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { API, toLuaCats } from '@provium/types';
import { UsageError } from '../errors.js';
import { collect, fileTimeout, finiteNumber, metaPair, poolMemory, positiveInt, remoteCacheOptions, renameNegatedOptions, shardSpec, timeoutScale, vmmBackend } from './options.js';
import { lspCommand } from './commands/lsp.js';
import { fixtureCommand } from './commands/fixture.js';
import { fixtureTransferCommands } from './commands/fixture-transfer.js';

// Commands load their modules when they run: `provium test` starts without the image builder or luaparse.
const commands = {
  test: () => import('./test-command.js'),
  list: () => import('./list-command.js'),
  images: () => import('./image-commands.js'),
  shell: () => import('./shell-command.js'),
  report: () => import('./report-command.js'),
};

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

function selectionOptions(cmd: Command): Command {
  return cmd
    .option('--filter <text>', 'only tests whose file path or name contains TEXT')
    .option('--tag <tag>', 'only tests with this tag (repeatable)', collect, [])
    .addOption(new Option('--skip-tag <tag>').argParser(collect).default([]).hideHelp())
    .option('--tag-meta <key=value>', 'only tests whose meta[KEY] is VALUE or a list holding it (repeatable: OR within a key, AND across keys)', metaPair('--tag-meta'), [])
    .addOption(new Option('--skip-tag-meta <key=value>').argParser(metaPair('--no-tag-meta')).default([]).hideHelp())
    .option('--include-slow', 'also run tests marked slow=true')
    .option('--config <file>', 'provium.toml to use (default: searched upward from the working directory)')
    .option('--shard <k/n>', 'only the K-th of N shards of the files (the same split on every machine)', shardSpec('--shard'))
    .option('--durations <file>', 'balance the shards by the times in FILE (from --save-durations, --json or --save-events; repeatable)', collect, [])
    .addHelpText('after', '\n  --no-tag <tag>           skip tests with this tag (repeatable)\n  --no-tag-meta <key=value>  skip tests whose meta[KEY] holds VALUE (repeatable; wins over --tag-meta)');
}

export function buildProgram(exit: (code: number) => void): Command {
  const program = new Command('provium')
    .description('Test whole systems inside QEMU virtual machines, with tests written in Lua.')
    .version(pkg.version, '--version')
    .showHelpAfterError('(run provium --help for the commands and options)')
    .exitOverride();

  // `provium [flags] [paths]` runs tests as `provium test` does (D26): a first word that names a command is that command.
  const testCommand = remoteCacheOptions(selectionOptions(
    program
      .command('test', { isDefault: true })
      .description('run test files (*.test.lua) in parallel worker threads (the default command: `provium [paths...]`)')
      .argument('[paths...]', 'test files or directories (default: the roots of provium.toml, else tests/)'),
  ))
    .option('-j, --jobs <n>', 'worker threads (default: CPU count)', positiveInt('--jobs'))
    .option('--fail-fast', 'stop after the first failing file')
    .option('--timeout <duration>', 'per-file timeout, e.g. 300, 90s, 5m; 0 for none (default 5m)', fileTimeout('--timeout'))
    .option('--timeout-scale <factor>', 'multiply every timeout (slow CI, emulated VMs)', timeoutScale('--timeout-scale'), 1)
    .option('--keep-on-failure', 'leave the VMs of failed files running (provium shell reaches them) until Ctrl-C')
    .option('--mem <size>', 'memory of the shared VM pool: bytes or K/M/G (default 80% of host RAM)', poolMemory('--mem'))
    .option('--cpus <n>', 'base vCPU count of the shared VM pool, before --cpu-overcommit (default: host CPUs)', positiveInt('--cpus'))
    .option('--cpu-overcommit <factor>', 'vCPUs per base CPU in the shared pool, 0.5 to 8 (default 1.0 with KVM, 4.0 under TCG)', finiteNumber('--cpu-overcommit'))
    .option('--rerun-failed', 'only the files that failed in the last run that had failures')
    .option('--since <path>', 'only test files modified after PATH was')
    .option('--watch', 'run again whenever a test file changes, until Ctrl-C')
    .addOption(new Option('--json', 'print JSON-lines run events instead of the human report').conflicts('eventsStdout'))
    .option('--events-stdout', 'JSON-lines run events on stdout, the human report on stderr')
    .option('--events-socket <path>', 'stream the run events live to every client of a unix socket made at PATH')
    .option('--save-events <file>', 'also write the JSON-lines run events to FILE (for provium report merge)')
    .option('--save-durations <file>', 'write each file\'s time and each fixture build\'s to FILE (for --durations)')
    .option('--coverage', 'after the run, count the tests by meta.spec')
    .option('--reporter <name>', 'default or junit (junit needs --output)', 'default')
    .option('--output <file>', 'where the junit reporter writes its XML')
    .option('-v, --verbose', 'show every test')
    .addOption(new Option('-q, --quiet', 'show only failures and the summary').conflicts('verbose'))
    .option('--no-progress', 'no live line of running files on a terminal')
    .option('--no-build', 'do not run the build commands of provium.toml profiles; use their last outputs')
    .option('--no-preflight', 'accepted for compatibility: provium test runs no host checks before a run (provium doctor does)')
    .option('--no-ksm', 'accepted for compatibility: provium does not tune KSM')
    .option('--vmm <backend>', 'accepted for compatibility: qemu, the one backend', vmmBackend('--vmm'))
    .action(async (paths: string[], opts) => exit(await (await commands.test()).testCommand(paths, opts)));
  // `provium [options] [paths]` runs tests, so the top-level help shows their options too (the original's does).
  program.addHelpText('after', () => `\nWith no command, provium runs tests: \`provium [options] [paths...]\` is \`provium test\`.\n\n${testCommand.helpInformation()}`);

  selectionOptions(
    program
      .command('list')
      .description('list the discovered test files, their tests (found without running them) and fixtures')
      .argument('[paths...]', 'test files or directories'),
  ).action(async (paths: string[], opts) => exit((await commands.list()).listCommand(paths, opts, process.stdout)));

  program
    .command('report')
    .description('reports made from saved run events')
    .command('merge')
    .description('merge the event files of a suite\'s shards (--json or --save-events) into one report')
    .argument('<files...>', 'event files, one per shard')
    .option('--reporter <name>', 'default or junit (junit needs --output)', 'default')
    .option('--output <file>', 'where the junit reporter writes its XML')
    .option('-v, --verbose', 'show every test')
    .addOption(new Option('-q, --quiet', 'show only failures and the summary').conflicts('verbose'))
    .action(async (files: string[], opts) => exit(await (await commands.report()).reportMergeCommand(files, opts, process.stdout)));

  program
    .command('prepare')
    .description('build the guest image of a profile now (default: the built-in "default" guest; "debian" is the other built-in one)')
    .argument('[profile]', 'profile name: default, debian or one from provium.toml', 'default')
    .option('--config <file>', 'provium.toml to use')
    .option('--rebuild', 'build a built-in image again even when it is cached (e.g. for newer Debian packages)')
    .action(async (profile: string, opts) => exit(await (await commands.images()).prepareCommand(profile, opts, process.stdout)));

  program
    .command('doctor')
    .description('check the host: QEMU, zstd, setpriv, the default image, KVM or TCG')
    .option('--config <file>', 'provium.toml to use')
    .action(async (opts) => exit(await (await commands.images()).doctorCommand(opts, process.stdout)));

  program
    .command('shell')
    .description('an interactive shell in a running VM, through its agent (see --keep-on-failure)')
    .argument('<agent-socket>', 'the VM\'s agent socket, as printed by provium test --keep-on-failure')
    .action(async (socket: string) => exit(await (await commands.shell()).shellCommand(socket)));

  program
    .command('types')
    .description('export the Provium API for other tools')
    .requiredOption('--luals', 'write a LuaCATS ---@meta file for lua-language-server')
    .option('--output <file>', 'file to write (default: standard output)')
    .action((opts: { output?: string }) => {
      const text = toLuaCats(API) + '\n';
      if (opts.output) writeFileSync(opts.output, text);
      else process.stdout.write(text);
      exit(0);
    });
  lspCommand(program);
  fixtureTransferCommands(fixtureCommand(program, exit), exit);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = buildProgram((c) => (code = c));
  try {
    await program.parseAsync(renameNegatedOptions(argv), { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2; // help/version print and exit 0; usage errors exit 2
    if (e instanceof UsageError) {
      process.stderr.write(`provium: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}
