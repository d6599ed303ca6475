// The Node CLI: `npx tsx src/cli/main.ts <command> [flags]` (npm run generate / calibrate).
// A thin adapter: parse flags, call the command, print. Errors users can meet print their
// message and hint, never a stack trace (set ERTA_DEBUG=1 to see one).

import { pathToFileURL } from 'node:url';
import { isDiffusionError } from '../core/errors.ts';
import { UsageError } from './args.ts';
import { BENCH_USAGE, parseBenchArgs } from './bench-args.ts';
import { runBench } from './bench.ts';
import { rowsMarkdown } from '../bench/report.ts';
import { CALIBRATE_USAGE, parseCalibrateArgs } from './calibrate-args.ts';
import { describeCalibration, runCalibrate } from './calibrate.ts';
import { GENERATE_USAGE, parseGenerateArgs } from './generate-args.ts';
import { describeRun, runGenerate } from './generate.ts';

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

const USAGE = `usage: npx tsx src/cli/main.ts <command> [options]

commands:
  generate    sample one digit to a PNG        (npm run generate -- --help)
  calibrate   fit cache plans for a model       (npm run calibrate -- --help)
  bench       fidelity of every policy          (npm run bench -- --help)`;

async function generate(argv: readonly string[], io: CliIo): Promise<number> {
  const args = parseGenerateArgs(argv);
  if (!args) {
    io.out(GENERATE_USAGE);
    return 0;
  }
  const r = await runGenerate(args);
  io.out(args.json ? JSON.stringify(r) : describeRun(r, args));
  return 0;
}

async function calibrate(argv: readonly string[], io: CliIo): Promise<number> {
  const args = parseCalibrateArgs(argv);
  if (!args) {
    io.out(CALIBRATE_USAGE);
    return 0;
  }
  const r = await runCalibrate(args, args.json ? () => {} : io.err);
  io.out(args.json ? JSON.stringify(r) : describeCalibration(r));
  return 0;
}

async function bench(argv: readonly string[], io: CliIo): Promise<number> {
  const args = parseBenchArgs(argv);
  if (!args) {
    io.out(BENCH_USAGE);
    return 0;
  }
  const r = await runBench(args, argv, io.err);
  io.out(args.json ? JSON.stringify(r) : rowsMarkdown(r.rows, r.steps));
  return 0;
}

const COMMANDS: Record<string, (argv: readonly string[], io: CliIo) => Promise<number>> = { generate, calibrate, bench };

/** Exit status 0 on success, 2 on a usage error, 1 on any other error. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  const run = command === undefined ? undefined : COMMANDS[command];
  if (!run) {
    io.err(command === undefined || command === '--help' ? USAGE : `error: unknown command "${command}"\n\n${USAGE}`);
    return command === '--help' ? 0 : 2;
  }
  try {
    return await run(rest, io);
  } catch (e) {
    return reportError(e, io);
  }
}

function reportError(e: unknown, io: CliIo): number {
  if (process.env['ERTA_DEBUG']) io.err(String((e as Error)?.stack ?? e));
  if (e instanceof UsageError) {
    io.err(`error: ${e.message}\n\n${e.usage}`);
    return 2;
  }
  if (isDiffusionError(e)) {
    io.err(`error [${e.code}]: ${e.message}\nhint: ${e.hint}`);
    return 1;
  }
  io.err(`error: ${e instanceof Error ? e.message : String(e)}\n(unexpected; rerun with ERTA_DEBUG=1 for a stack trace)`);
  return 1;
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  const io: CliIo = { out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) };
  process.exitCode = await runCli(process.argv.slice(2), io);
}
