// One promise chain for every session.run of a model. onnxruntime-web rejects a run on a session
// that is still running ("Session already started"), and its WebGPU backend shares one device
// queue across sessions anyway, so concurrent runs buy nothing; serializing all of them is the
// simple rule that is always right (transformers.js does the same).

export interface RunQueue {
  /** Runs `task` after every previously enqueued task has settled; resolves with its result. */
  enqueue<R>(task: () => Promise<R>): Promise<R>;
  /** Number of tasks enqueued and not yet settled (for tests and diagnostics). */
  readonly pending: number;
}

export function createRunQueue(): RunQueue {
  let tail: Promise<unknown> = Promise.resolve();
  let pending = 0;
  // Settlement (success or failure) of a task releases the next one: a failed task must not
  // poison the chain. One handler pair per task; the count drops when the task settles.
  const settled = (): void => {
    pending -= 1;
  };
  return {
    enqueue<R>(task: () => Promise<R>): Promise<R> {
      // Idle queue: every earlier task has settled, so the task starts now rather than a
      // microtask later (the denoiser's three runs a step all take this path).
      const run = pending === 0 ? start(task) : tail.then(task);
      pending += 1;
      tail = run.then(settled, settled);
      return run;
    },
    get pending() {
      return pending;
    },
  };
}

/** task() as a promise, a synchronous throw included. */
function start<R>(task: () => Promise<R>): Promise<R> {
  try {
    return Promise.resolve(task());
  } catch (e) {
    return Promise.reject(e);
  }
}
