import { ConfigError, parseFlags, UsageError } from './args.ts';
import { commands, type Io } from './commands.ts';

function help(io: Io): void {
  io.out.write('faultline: coverage-matrix resilience testing\n\nUsage: faultline <command> [options]\n\n');
  for (const [name, c] of Object.entries(commands)) io.out.write(`  ${name.padEnd(9)} ${c.summary}\n`);
  io.out.write(
    '\nRun `faultline <command> --help` for its options. Exit codes: 0 ok/gate passed, 1 gate failed, 2 usage or config error (or results that cannot be written), 130/143 interrupted by SIGINT/SIGTERM.\n',
  );
}

function commandHelp(io: Io, name: string): void {
  const c = commands[name]!;
  io.out.write(`${c.usage}\n\n${c.summary}\n\n`);
  for (const [flag, o] of Object.entries(c.options)) {
    io.out.write(`  --${`${flag}${o.type === 'string' ? ' VALUE' : ''}`.padEnd(16)} ${o.help}\n`);
  }
}

export async function main(argv: string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    help(io);
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    io.err.write(`faultline: unknown command "${name}" (commands: ${Object.keys(commands).join(', ')})\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    commandHelp(io, name);
    return 0;
  }
  try {
    return await command.run(io, parseFlags(command, rest));
  } catch (error) {
    const message = await failure(error);
    if (message === undefined) throw error;
    io.err.write(message(name, command.usage));
    return 2;
  }
}

/**
 * What the CLI prints for an error of the user's making (exit 2), or undefined for a bug. The matrix and
 * the runner are imported here, not at start-up: when they threw they are loaded already.
 */
async function failure(error: unknown): Promise<((name: string, usage: string) => string) | undefined> {
  if (error instanceof ConfigError) return (name) => `faultline ${name}: ${error.message}\n`;
  if (error instanceof UsageError) return (name, usage) => `faultline ${name}: ${error.message}\nusage: ${usage}\n`;
  if (!(error instanceof Error)) return undefined;
  if (error instanceof (await import('@faultline/matrix')).MatrixError) return () => `${error.message}\n`;
  // A full or read-only disk, another run holding the directory, a matrix edited mid-run: one line.
  if (error instanceof (await import('@faultline/runner')).RunError)
    return (name) => `faultline ${name}: ${error.message}\n`;
  return undefined;
}
