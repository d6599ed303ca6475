// calibrate() through createRuntime on onnxruntime-node (the worker's code path, with the Node
// backend): the plan equals the one the Node calibration (npm run calibrate's calibrate())
// writes for the same model, seeds and budget; it is stored, listed, and used by later
// generations (before the manifest's plan); bad requests fail typed before anything runs; a
// cancelled calibration stores nothing.

import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeBackend } from '../backend/node-backend.ts';
import { calibrate as nodeCalibrate } from '../node/calibrate.ts';
import { memoryPlanStore, type PlanStore } from '../storage/plan-store.ts';
import type { CalibrationEvent, GenerateResult } from './api.ts';
import { createRuntime } from './create-runtime.ts';
import { mergePlanEntries } from './run-calibration.ts';

const DIT = resolve('public/models/imported-dit-tiny');
const STEPS = 6;
const BUDGET = 4;

const reuseOf = (r: GenerateResult) => r.stats.decisions.flatMap((d, i) => (d === 'reuse' ? [i] : []));

describe('mergePlanEntries (the precedence of browser plans)', () => {
  it('puts browser plans first and hides the manifest plan for the same kind, steps, budget and space', () => {
    const manifest = [
      { file: 'plans/ertacache-6-b4.json', kind: 'ertacache', steps: 6, budget: 4 },
      { file: 'plans/ertacache-6-b4-hidden.json', kind: 'ertacache', steps: 6, budget: 4, space: 'hidden' as const },
      { file: 'plans/teacache-6-b4.json', kind: 'teacache', steps: 6, budget: 4 },
    ];
    const browser = [{ file: 'browser:ertacache-6-b4', kind: 'ertacache', steps: 6, budget: 4 }];
    expect(mergePlanEntries(manifest, browser).map((p) => p.file))
      .toEqual(['browser:ertacache-6-b4', 'plans/ertacache-6-b4-hidden.json', 'plans/teacache-6-b4.json']);
  });
});

describe('calibrate() in the runtime (imported DiT, ε / DDIM, onnxruntime-node)', () => {
  let store: PlanStore;
  let nodeReuse: number[];
  let nodeLambda: number;
  let tmp: string;
  const runtime = () => createRuntime(createNodeBackend(), { baseUrl: pathToFileURL(DIT).href + '/', plans: store });
  let rt: ReturnType<typeof runtime>;

  beforeAll(async () => {
    store = memoryPlanStore();
    rt = runtime();
    // The Node calibration on a copy (it writes plans/ and manifest.json), same seeds and budget.
    tmp = await mkdtemp(join(tmpdir(), 'erta-calib-'));
    await cp(DIT, tmp, { recursive: true });
    const report = await nodeCalibrate({ model: tmp, steps: STEPS, budgets: [BUDGET], seeds: [0, 1] });
    const entry = report.plans.find((p) => p.kind === 'ertacache' && p.space === 'output')!;
    nodeReuse = entry.reuse!;
    nodeLambda = entry.lambda!;
  }, 120_000);
  afterAll(async () => {
    await rt?.dispose();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('fails typed before load and on bad requests', async () => {
    await expect(rt.calibrate({ budget: BUDGET })).rejects.toMatchObject({ code: 'NOT_LOADED' });
    await rt.load('manifest.json');
    await expect(rt.calibrate({ budget: BUDGET, policy: 'fastcache' as never })).rejects.toMatchObject({ code: 'UNKNOWN_POLICY' });
    await expect(rt.calibrate({ budget: BUDGET, policy: 'uniform' as never })).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(rt.calibrate({ budget: 1, steps: STEPS })).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(rt.calibrate({ budget: 7, steps: STEPS })).rejects.toMatchObject({ code: 'BAD_INPUT', message: expect.stringContaining('more than the run') });
    await expect(rt.calibrate({} as never)).rejects.toMatchObject({ code: 'BAD_INPUT', message: expect.stringContaining('no budget') });
    await expect(rt.calibrate({ budget: BUDGET, steps: STEPS, labels: [10] })).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(rt.calibrate({ budget: BUDGET, steps: STEPS, prompts: ['a cat'] })).rejects.toMatchObject({ code: 'CONDITIONING_MISMATCH' });
    await expect(rt.calibrate({ budget: BUDGET, steps: STEPS, seeds: [1003] })).rejects.toMatchObject({ code: 'CALIBRATION_SEED' });
    await expect(rt.calibrate({ budget: BUDGET, bogus: 1 } as never)).rejects.toMatchObject({ code: 'BAD_INPUT' });
    expect(await store.list((await rt.load('manifest.json')).modelHash)).toEqual([]);
  });

  it('a cancelled calibration rejects CANCELLED and stores nothing; a second one meanwhile is BUSY', async () => {
    const info = await rt.load('manifest.json');
    const events: CalibrationEvent[] = [];
    const run = rt.calibrate({ jobId: 'c1', budget: BUDGET, steps: STEPS }, (e) => {
      events.push(e);
      if (e.passes === 2) void rt.cancel('c1');
    });
    await expect(rt.calibrate({ budget: BUDGET, steps: STEPS })).rejects.toMatchObject({ code: 'BUSY' });
    await expect(rt.generate({ label: 1, seed: 0, steps: 2 })).rejects.toMatchObject({ code: 'BUSY' });
    await expect(run).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(Math.max(...events.map((e) => e.passes))).toBeLessThanOrEqual(3);
    expect(await store.list(info.modelHash)).toEqual([]);
    expect(info.plans.every((p) => !p.file.startsWith('browser:'))).toBe(true);
  });

  it('gives the Node calibration\'s reuse set, stores the plan, and later generations use it', async () => {
    const info = await rt.load('manifest.json');
    const events: CalibrationEvent[] = [];
    const r = await rt.calibrate({ budget: BUDGET, steps: STEPS, seeds: [0, 1] }, (e) => void events.push(e));
    expect(r.reuse).toEqual(nodeReuse);
    expect((r.plan as { lambda: number }).lambda).toBeCloseTo(nodeLambda, 4);
    expect(r).toMatchObject({ computedSteps: BUDGET, stored: true, samples: 20, entry: { file: 'browser:ertacache-6-b4', kind: 'ertacache', steps: 6, budget: 4 } });
    // The plan is the one the Node calibration wrote (up to its 7-digit rounding and float32 order).
    const written = JSON.parse(await readFile(join(tmp, 'plans/ertacache-6-b4.json'), 'utf8')) as { phi: number[]; timeRule: string };
    expect(r.plan).toMatchObject({ kind: 'ertacache', modelHash: info.modelHash, steps: STEPS, budget: BUDGET, timeRule: written.timeRule });
    (r.plan as { phi: number[] }).phi.forEach((p, k) => expect(p).toBeCloseTo(written.phi[k]!, 4));
    // progress: one event per profiled step, then the searches' lines
    expect(events.filter((e) => e.phase === 'profile' && e.message.startsWith('profiling: transformer pass')).map((e) => e.passes)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(events.some((e) => e.phase === 'fit' && e.message.includes('ertacache budget 4'))).toBe(true);
    expect(events.at(-1)).toMatchObject({ phase: 'store' });
    expect(r.passes).toBe(events.at(-1)!.passes);
    expect((await store.list(info.modelHash)).map((p) => p.key)).toEqual([`${info.modelHash}/ertacache-6-b4`]);

    const out = await rt.generate({ label: 3, seed: 5, steps: STEPS, policy: { kind: 'ertacache', budget: BUDGET } });
    expect(out.stats.planId).toBe('browser:ertacache-6-b4');
    expect(reuseOf(out)).toEqual(nodeReuse);
  }, 120_000);

  it('a new runtime over the same store lists and uses the stored plan (the manifest\'s stays for the other slots)', async () => {
    const again = runtime();
    try {
      const info = await again.load('manifest.json');
      expect(info.plans[0]).toEqual({ file: 'browser:ertacache-6-b4', kind: 'ertacache', steps: 6, budget: 4 });
      expect(info.plans.filter((p) => p.file === 'plans/ertacache-6-b4.json')).toEqual([]);
      const out = await again.generate({ label: 3, seed: 5, steps: STEPS, policy: { kind: 'ertacache', budget: BUDGET } });
      expect(out.stats.planId).toBe('browser:ertacache-6-b4');
      const tea = await again.generate({ label: 3, seed: 5, steps: STEPS, policy: { kind: 'teacache', budget: BUDGET } });
      expect(tea.stats.planId).toBe('plans/teacache-6-b4.json');
      // deleting the model's stored data removes its plans too
      await again.deleteCachedModel('manifest.json');
      expect(await store.list(info.modelHash)).toEqual([]);
      const after = await again.generate({ label: 3, seed: 5, steps: STEPS, policy: { kind: 'ertacache', budget: BUDGET } });
      expect(after.stats.planId).toBe('plans/ertacache-6-b4.json');
    } finally {
      await again.dispose();
    }
  }, 60_000);

  it('a stored record that is not a valid plan of this model is ignored at load, with a warning', async () => {
    const again = runtime();
    try {
      const hash = (await again.load('manifest.json')).modelHash;
      await store.put({ key: `${hash}/ertacache-6-b4`, modelHash: hash, model: 'x', created: 0,
        entry: { file: 'browser:ertacache-6-b4', kind: 'ertacache', steps: 6, budget: 4 }, plan: { kind: 'ertacache', steps: 6 } as never });
      const info = await again.load('manifest.json');
      expect(info.warnings.some((w) => w.includes('1 stored plan(s) of this model are invalid'))).toBe(true);
      expect(info.plans.some((p) => p.file.startsWith('browser:'))).toBe(false);
      const out = await again.generate({ label: 3, seed: 5, steps: STEPS, policy: { kind: 'ertacache', budget: BUDGET } });
      expect(out.stats.planId).toBe('plans/ertacache-6-b4.json');
    } finally {
      await again.dispose();
    }
  });

  it('a peer policy fits only that peer (no ERTACache search), the same plan as the Node calibration', async () => {
    await rt.load('manifest.json');
    const events: CalibrationEvent[] = [];
    const r = await rt.calibrate({ budget: BUDGET, steps: STEPS, seeds: [0, 1], policy: 'easycache', store: false }, (e) => void events.push(e));
    const written = JSON.parse(await readFile(join(tmp, 'plans/easycache-6-b4.json'), 'utf8')) as { delta: number; computedSteps: number };
    expect(r).toMatchObject({ stored: false, reuse: null, plan: { kind: 'easycache' } });
    expect(r.computedSteps).toBeCloseTo(written.computedSteps, 6); // the file holds 7 significant digits
    expect((r.plan as { delta: number }).delta).toBeCloseTo(written.delta, 6);
    expect(events.some((e) => e.message.includes('easycache budget 4'))).toBe(true);
    expect(events.some((e) => e.message.includes('ertacache budget'))).toBe(false);
  }, 120_000);
});

describe('calibrate() on a text model (imported PixArt-style, prompts as the batch\'s labels)', () => {
  it('gives the Node calibration\'s reuse set for the same prompts and seeds; labels are refused', async () => {
    const dir = resolve('public/models/imported-pixart-tiny');
    const prompts = ['a red apple', 'a pink flower'];
    const tmp = await mkdtemp(join(tmpdir(), 'erta-calib-t2i-'));
    const rt = createRuntime(createNodeBackend(), { baseUrl: pathToFileURL(dir).href + '/' });
    try {
      await cp(dir, tmp, { recursive: true });
      await writeFile(join(tmp, 'prompts.json'), JSON.stringify(prompts));
      const fast = { steps: STEPS, seeds: [0], forecast: false, evaluate: false };
      const node = await nodeCalibrate({ model: tmp, budgets: [BUDGET], prompts: join(tmp, 'prompts.json'), ...fast });
      await rt.load('manifest.json');
      await expect(rt.calibrate({ budget: BUDGET, steps: STEPS, labels: [0] })).rejects.toMatchObject({ code: 'CONDITIONING_MISMATCH' });
      const r = await rt.calibrate({ budget: BUDGET, prompts, policy: 'ertacache', store: false, ...fast });
      expect(r.reuse).toEqual(node.plans.find((p) => p.kind === 'ertacache')!.reuse);
      expect(r).toMatchObject({ stored: false, samples: 2, plan: { forecast: null } });
      const out = await rt.generate({ prompt: 'a blue fish', seed: 1, steps: STEPS, policy: { kind: 'ertacache', budget: BUDGET } });
      expect(out.stats.planId).toBe('browser:ertacache-6-b4'); // not stored, but kept for this runtime
    } finally {
      await rt.dispose();
      await rm(tmp, { recursive: true, force: true });
    }
  }, 120_000);
});
