// Load the default model and generate in each provider (WebGPU on SwiftShader, WASM): frames
// arrive in order and reach the canvas, stats count only the read-backs asked for, and the
// final image equals the Node runtime's (onnxruntime-node; what the CLI writes) for the same seed and policy.

import { nodeReference, expect, generate, load, maxAbsDiff, ok, smallestErtaPlan, test } from './fixtures.ts';

// SwiftShader runs a step in ~2 s, WASM in ~0.15 s: keep WebGPU runs short.
const stepsFor = (provider: string) => (provider === 'webgpu' ? 4 : 8);
// fp32 graphs on three engines (ORT CPU in Node, ORT WASM, WGSL + ORT WebGPU). WASM matches
// Node's image to ~1e-6. WebGPU on SwiftShader sums in another order; on the trained model, with guidance
// w = 3 amplifying every difference 5×, its max abs difference from Node measured 3e-3 (none,
// 4 steps) and 8e-3 (ertacache, 8 steps) on [−1, 1] pixels. A wrong step, a missed rectification
// or a wrong φ moves pixels by ≫ 0.05, so these bounds still catch any real divergence.
const TOLERANCE: Record<string, number> = { wasm: 1e-3, webgpu: 2.5e-2 };

test('none: frames in order, final image equals Node\'s', async ({ harness, provider }) => {
  const info = ok(await load(harness, { provider }));
  expect(info.provider.used).toBe(provider);
  expect(info.provider.reason.length).toBeGreaterThan(0);

  const steps = stepsFor(provider);
  const req = { label: 3, seed: 7, steps, guidance: 3, previewEvery: 2, policy: { kind: 'none' } };
  const outcome = await generate(harness, req);
  const run = ok(outcome);
  const events = outcome.events as { type: string; i?: number }[];

  const stepIs = events.filter((e) => e.type === 'step').map((e) => e.i);
  const previewIs = events.filter((e) => e.type === 'preview').map((e) => e.i);
  expect(stepIs).toEqual([...Array(steps).keys()]);
  expect(previewIs).toEqual([...Array(steps / 2).keys()].map((k) => 2 * k + 1));
  expect(events.at(-1)?.type).toBe('done');

  const { stats } = run;
  expect(stats.provider).toBe(provider);
  expect(stats.computedSteps).toBe(steps);
  expect(stats.previews).toBe(steps / 2);
  expect(stats.readbacks).toBe(stats.previews + 1); // the previews asked for, plus the final image
  expect(run.framePixels).toBe(28 * 28 * 4);
  expect(await harness.evaluate(() => (globalThis as unknown as { harness: { canvasMean(): number } }).harness.canvasMean()))
    .toBeGreaterThan(0);

  const reference = await nodeReference({ label: 3, seed: 7, steps, guidance: 3, policy: 'none' });
  expect(maxAbsDiff(run.image, reference)).toBeLessThan(TOLERANCE[provider]!);
});

test('ertacache: reuses exactly the plan\'s steps, with no extra read-back', async ({ harness, provider }) => {
  const plan = smallestErtaPlan();
  test.skip(plan === null, `no ertacache plan in the model's manifest yet (npm run calibrate writes one)`);
  ok(await load(harness, { provider }));
  const req = { label: 5, seed: 11, steps: plan!.steps, guidance: 3, previewEvery: 0,
    policy: { kind: 'ertacache', budget: plan!.budget } };
  const run = ok(await generate(harness, req));
  const { stats } = run;

  const reused = stats.decisions.flatMap((d, i) => (d === 'reuse' ? [i] : []));
  expect(reused).toEqual(plan!.reuse);
  expect(stats.reusedSteps).toBe(plan!.reuse.length);
  expect(stats.planId).toBe(plan!.file);
  expect(stats.readbacks).toBe(1); // ERTACache decides without read-backs: only the final image

  const reference = await nodeReference({ label: 5, seed: 11, steps: plan!.steps, guidance: 3,
    policy: 'ertacache', budget: plan!.budget });
  expect(maxAbsDiff(run.image, reference)).toBeLessThan(TOLERANCE[provider]!);
});

test('ertacache-forecast: the plan\'s forecast reuse set, no extra read-back, Node\'s image', async ({ harness, provider }) => {
  // On WebGPU the forecast is the same WGSL axpy the ertacache case above runs on the device (and
  // webgpu-ops.spec.ts checks against the CPU ops); SwiftShader is slow, so its plan runs on WASM.
  test.skip(provider === 'webgpu', 'WASM only: the WebGPU reuse path is the ertacache case above');
  const plan = smallestErtaPlan();
  test.skip(plan?.forecastReuse == null, 'no ertacache plan with a forecast in the manifest (npm run calibrate writes one)');
  ok(await load(harness, { provider }));
  const req = { label: 2, seed: 13, steps: plan!.steps, guidance: 3, previewEvery: 0,
    policy: { kind: 'ertacache-forecast', budget: plan!.budget } };
  const run = ok(await generate(harness, req));
  const { stats } = run;
  expect(stats.decisions.flatMap((d, i) => (d === 'reuse' ? [i] : []))).toEqual(plan!.forecastReuse);
  expect(stats.readbacks).toBe(1); // the forecast is axpys on the device: only the final image is read
  const reference = await nodeReference({ label: 2, seed: 13, steps: plan!.steps, guidance: 3,
    policy: 'ertacache-forecast', budget: plan!.budget });
  expect(maxAbsDiff(run.image, reference)).toBeLessThan(TOLERANCE[provider]!);
});

test('the single graph (model.onnx) gives the split graphs\' image', async ({ harness, provider }) => {
  const req = { label: 8, seed: 21, steps: provider === 'webgpu' ? 2 : 4, guidance: 3 };
  ok(await load(harness, { provider, graphs: 'split' }));
  const split = ok(await generate(harness, req));
  const single = ok(await load(harness, { provider, graphs: 'single' }));
  expect(single.graphs).toBe('single');
  const whole = ok(await generate(harness, req));
  expect(whole.stats.readbacks).toBe(1);
  expect(maxAbsDiff(whole.image, split.image)).toBeLessThan(TOLERANCE[provider]!);
});
