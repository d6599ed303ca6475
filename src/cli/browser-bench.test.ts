import { describe, expect, it } from 'vitest';
import { browserRuns, manifestUrlFor, QUICK_WASM_PAIRS } from './browser-bench.ts';

const plan = (kind: string, steps: number, budget: number, extra: object = {}) => ({ file: `${kind}-${steps}-${budget}.json`, kind, steps, budget, ...extra });
const manifest = {
  scheduler: { defaultSteps: 50 } as never,
  plans: [
    ...[34, 25, 17].flatMap((b) => ['teacache', 'magcache', 'ertacache'].map((k) => plan(k, 50, b))),
    plan('ertacache', 50, 25, { space: 'hidden' }),
    plan('ertacache', 8, 5), plan('magcache', 8, 5), plan('teacache', 8, 5),
  ],
};

describe('browserRuns', () => {
  it('times every peer at every budget on WASM and ertacache against the best peer on the short WebGPU plan', () => {
    const [wasm, webgpu] = browserRuns(manifest, [34, 25, 17], false, 5, 'teacache');
    expect(wasm!.provider).toBe('wasm');
    expect(wasm!.steps).toBe(50);
    expect(wasm).toMatchObject({ repeats: 5, wasmThreads: 1 });
    expect(wasm!.cases.map((c) => `${c.kind}@${c.budget}`)).toEqual([34, 25, 17].flatMap((b) =>
      ['uniform', 'teacache', 'magcache', 'taylorseer', 'taylorseer-2', 'ertacache', 'ertacache-forecast'].map((k) => `${k}@${b}`)));
    expect(webgpu).toMatchObject({ provider: 'webgpu', steps: 8, repeats: 3, warmup: 'first-case' });
    expect(webgpu!.cases.map((c) => c.kind)).toEqual(['teacache', 'ertacache', 'ertacache-forecast']);
  });

  it('with --quick: budget 25 only on WASM, ertacache and its forecast alone on WebGPU', () => {
    const runs = browserRuns(manifest, [34, 25, 17], true, 3, 'magcache');
    expect(runs[0]!.cases.map((c) => c.budget)).toEqual(new Array(7).fill(25));
    expect(runs[1]!.cases.map((c) => c.kind)).toEqual(['ertacache', 'ertacache-forecast']);
    expect(runs[1]!.repeats).toBe(1);
    // enough WASM pairs for a median (2 scattered measured/ideal over 0.72–1.22), an even number so
    // each order of a pair comes first equally often, on one WASM thread
    expect(runs[0]).toMatchObject({ repeats: QUICK_WASM_PAIRS, wasmThreads: 1 });
    expect(QUICK_WASM_PAIRS % 2).toBe(0);
    expect(QUICK_WASM_PAIRS).toBeGreaterThanOrEqual(8);
  });

  it('--steps 8: WASM at 8 steps on the 8-step plans; no shorter plan, so no WebGPU run', () => {
    const runs = browserRuns(manifest, [5], false, 3, 'teacache', 8);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ provider: 'wasm', steps: 8 });
    expect(runs[0]!.cases.map((c) => `${c.kind}@${c.budget}`)).toEqual(
      ['uniform', 'teacache', 'magcache', 'taylorseer', 'taylorseer-2', 'ertacache', 'ertacache-forecast'].map((k) => `${k}@5`));
  });

  it('drops WebGPU when no short ertacache plan exists, and policies without a plan', () => {
    const runs = browserRuns({ ...manifest, plans: [plan('ertacache', 50, 25)] }, [25], false, 3, 'magcache');
    expect(runs).toHaveLength(1);
    expect(runs[0]!.cases.map((c) => c.kind)).toEqual(['uniform', 'taylorseer', 'taylorseer-2', 'ertacache', 'ertacache-forecast']);
  });
});

describe('manifestUrlFor', () => {
  it('maps a model under public/ to the URL the dev server serves it at', () => {
    expect(manifestUrlFor('public/models/mnist-dit')).toBe('/models/mnist-dit/manifest.json');
    expect(manifestUrlFor('/abs/repo/public/models/x/')).toBe('/models/x/manifest.json');
    expect(manifestUrlFor('/tmp/elsewhere')).toBeNull();
  });
});
