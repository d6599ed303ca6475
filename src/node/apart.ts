// Runs one timing job in a fresh Node process and returns its result over IPC: the bench's speed
// rows (src/cli/bench-speed.ts), the scaling study's variants (src/bench/scaling.ts) and the
// families bench's Node rows (src/cli/bench-families.ts).
//
// Why a process per job: src/cli/bench-speed.ts has the measurement (V8's mark-compacts after the
// heap shrank cost every later in-process row 2–5 %). A child holds only the timed model, so what a
// row measures no longer depends on what ran before it.

import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** What a child sends back: progress lines, then its result or its error. */
export type ApartMessage<R> = { log: string } | { result: R } | { error: string };

/**
 * Forks `childUrl` (a module URL, `.ts` from source under tsx, else `.js`) with the job as its one
 * argument (JSON) and resolves with the result it sends; rejects with the child's own error, or
 * with how it exited. `what` names the job in that message.
 */
export function runApart<J, R>(childUrl: URL, job: J, what: string, log: (m: string) => void = () => {}): Promise<R> {
  const file = fileURLToPath(childUrl);
  return new Promise((resolve, reject) => {
    // a bench run from source (tsx) needs the same loader in the child
    const child = fork(file, [JSON.stringify(job)], {
      execArgv: file.endsWith('.ts') ? ['--import', 'tsx'] : [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let result: { value: R } | null = null;
    let error: string | null = null;
    child.on('message', (m: ApartMessage<R>) => {
      if ('log' in m) log(m.log);
      else if ('result' in m) result = { value: m.result };
      else error = m.error;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (result !== null && code === 0) resolve(result.value);
      else reject(new Error(error ?? `${what} exited with ${signal ?? `code ${code}`}`));
    });
  });
}

/** The child module's sibling: `./name.ts` when running from source, `./name.js` when built. */
export function siblingUrl(base: string, name: string): URL {
  return new URL(`./${name}${base.endsWith('.ts') ? '.ts' : '.js'}`, base);
}

/**
 * The child's side: reads the job from argv, runs `work` with a progress callback, sends the result
 * (or the error's message) to the parent and exits. Started by hand (no IPC channel), it says so.
 */
export function serveApart<J, R>(name: string, work: (job: J, log: (m: string) => void) => Promise<R>): void {
  if (!process.send) {
    console.error(`${name} is started by the bench (over an IPC channel), not by hand`);
    process.exit(2);
  }
  const send = (m: ApartMessage<R>) => new Promise<void>((r) => process.send!(m, () => r()));
  work(JSON.parse(process.argv[2]!) as J, (l) => void send({ log: l })).then(async (result) => {
    await send({ result });
    process.exit(0);
  }, async (e: unknown) => {
    await send({ error: e instanceof Error ? e.message : String(e) });
    process.exit(1);
  });
}
