// The Node CLI: `npx tsx src/cli/main.ts <command> [flags]` (npm run generate / calibrate).
// A thin adapter: parse flags, call the command, print. Errors users can meet print their
// message and hint, never a stack trace (set ERTA_DEBUG=1 to see one).

import { pathToFileURL } from 'node:url';
import { isDiffusionError } from '../core/errors.ts';
import { UsageError } from './args.ts';
import { BENCH_USAGE, parseBenchArgs } from './bench-args.ts';
import { runBench, runOverheadOnly, type OverheadReport } from './bench.ts';
import { isTextModel, runTextBench, type TextBenchReport } from './bench-text.ts';
import { overheadMarkdown, rowsMarkdown, type BenchReport } from '../bench/report.ts';
import { CALIBRATE_USAGE, parseCalibrateArgs } from './calibrate-args.ts';
import { describeCalibration, runCalibrate } from './calibrate.ts';
import { GENERATE_USAGE, parseGenerateArgs } from './generate-args.ts';
import { describeRun, runGenerate } from './generate.ts';
import { describeImport, IMPORT_USAGE, parseImportArgs, runImport } from './import-model.ts';

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

const USAGE = `usage: npx tsx src/cli/main.ts <command> [options]

commands:
  generate    sample one digit to a PNG        (npm run generate -- --help)
  calibrate   fit cache plans for a model       (npm run calibrate -- --help)
  bench       fidelity of every policy          (npm run bench -- --help)
  import-model  split an ONNX DiT into a model folder (npm run import-model -- --help)`;

type Command = (argv: readonly string[], io: CliIo) => Promise<number>;

/** A command: parse (null = --help), run, print JSON or the human summary. */
function command<A extends { json: boolean }, R>(parse: (argv: readonly string[]) => A | null, usage: string,
  run: (args: A, argv: readonly string[], io: CliIo) => Promise<R>, describe: (r: R, args: A) => string): Command {
  return async (argv, io) => {
    const args = parse(argv);
    if (!args) {
      io.out(usage);
      return 0;
    }
    const r = await run(args, argv, io);
    io.out(args.json ? JSON.stringify(r) : describe(r, args));
    return 0;
  };
}

const generate = command(parseGenerateArgs, GENERATE_USAGE, (a) => runGenerate(a), describeRun);
const calibrate = command(parseCalibrateArgs, CALIBRATE_USAGE,
  (a, _argv, io) => runCalibrate(a, a.json ? () => {} : io.err), (r) => describeCalibration(r));
const bench = command(parseBenchArgs, BENCH_USAGE,
  async (a, argv, io): Promise<BenchReport | TextBenchReport | OverheadReport> => (a.overheadOnly ? runOverheadOnly(a, argv, io.err)
    : (await isTextModel(a.model)) ? runTextBench(a, argv, io.err) : runBench(a, argv, io.err)),
  (r) => ('rows' in r ? rowsMarkdown(r.rows, r.steps) : overheadMarkdown(r.overheads)));

const importModel = command(parseImportArgs, IMPORT_USAGE, (a) => runImport(a), describeImport);

const COMMANDS: Record<string, Command> = { generate, calibrate, bench, 'import-model': importModel };

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
