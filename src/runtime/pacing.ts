// Pacing a generation one step at a time. ORT resolves its runs without returning to the
// event loop (WASM) or long before the GPU has done the work (WebGPU); both would make a
// worker deaf to cancel() and its step timings meaningless.

import type { Denoiser } from '../core/types.ts';

/**
 * A macrotask turn. ORT's WASM runs resolve without ever returning to the event loop, so
 * without this a worker would not see cancel() (or any message) until the whole run is over.
 * MessageChannel rather than setTimeout: no 4 ms clamp per step.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

/**
 * The same denoiser, paced one step at a time: it yields to the event loop before a step's
 * first graph (so cancel() is seen) and, on a GPU, waits for the step's last graph to finish
 * (so the GPU never runs far ahead of the loop: step times are real, cancel stops real work).
 */
export function pacedByStep<T>(d: Denoiser<T>, sync: (() => Promise<void>) | undefined): Denoiser<T> {
  const settled = async <R>(r: R): Promise<R> => {
    await sync?.();
    return r;
  };
  if (d.kind === 'single') {
    return {
      kind: 'single', outputLayout: d.outputLayout,
      forward: async (x, sigma, labels) => {
        await yieldToEventLoop();
        return settled(await d.forward(x, sigma, labels));
      },
    };
  }
  return {
    kind: 'split', hiddenLayout: d.hiddenLayout, outputLayout: d.outputLayout,
    embed: async (x, sigma, labels) => {
      await yieldToEventLoop();
      return d.embed(x, sigma, labels);
    },
    blocks: (h, c, labels) => d.blocks(h, c, labels),
    head: async (z, c) => settled(await d.head(z, c)),
  };
}
