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
  return {
    enqueue<R>(task: () => Promise<R>): Promise<R> {
      pending += 1;
      const run = tail.then(() => task());
      // A failed task must not poison the chain: the next task waits for settlement, not success.
      tail = run.then(
        () => undefined,
        () => undefined,
      );
      return run.finally(() => {
        pending -= 1;
      });
    },
    get pending() {
      return pending;
    },
  };
}
