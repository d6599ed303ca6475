// Properties of the sampler over many random ERTACache plans (seeded, so failures reproduce):
// Σ Δ = 1 whatever φ, the reuse set is exactly the plan's S, the last step computes, and the
// same seed gives the same image.

import { describe, expect, it } from 'vitest';
import { createPolicy } from '../cache/registry.ts';
import { ertaPlan } from '../cache/test-plans.ts';
import { createCpuOps } from './ops.ts';
import { gaussianNoise, seededUniform } from './rng.ts';
import { sample } from './sampler.ts';
import { flowMatchSigmas } from './schedules.ts';
import type { TimeMode } from './schedules.ts';
import { createGaussianFlowToy } from './toy-denoisers.ts';
import type { StepInfo } from './types.ts';

const ops = createCpuOps();
const xDims = [1, 1, 2, 2];
const toy = createGaussianFlowToy(ops, xDims, { mean: (l, p) => (l === 10 ? 0 : 0.5 * Math.cos(l + p)), std: () => 0.3 });

function randomPlan(rand: () => number, steps: number) {
  const reuse = Array.from({ length: steps - 2 }, (_, k) => k + 1).filter(() => rand() < 0.5);
  const phi = Array.from({ length: steps }, (_, i) => (reuse.includes(i) ? (rand() < 0.3 ? 0 : rand()) : 1));
  return ertaPlan({ steps, reuse, phi, a: [0.1 * rand()], b: [0.05 * rand()] });
}

async function runPlan(seed: number, steps: number, kind: string, plan: unknown, timeMode: TimeMode) {
  const infos: StepInfo[] = [];
  const { x } = await sample({
    denoiser: toy, ops, sigmas: flowMatchSigmas(steps, 3), policy: createPolicy(kind, { plan, steps }), guidance: 1.5,
    noise: ops.fromHost(gaussianNoise(seed, 4), xDims), cond: { label: 3, nullLabel: 10 }, timeMode,
    onStep: (s) => infos.push(s),
  });
  return { x: x.data, infos };
}

describe('sampler properties over random plans', () => {
  const rand = seededUniform(2024);
  const cases = Array.from({ length: 24 }, (_, k) => ({ steps: 3 + Math.floor(rand() * 30), k }));

  it.each(cases)('plan $k ($steps steps): Σ Δ = 1, reuses exactly S, last step computes', async ({ steps }) => {
    const plan = randomPlan(rand, steps);
    for (const kind of ['ertacache-schedule', 'ertacache-schedule+dt', 'ertacache']) {
      for (const timeMode of ['actual', 'nominal'] as const) {
        const { infos } = await runPlan(7, steps, kind, plan, timeMode);
        expect(infos.reduce((s, i) => s + i.dt, 0)).toBeCloseTo(1, 12);
        expect(infos.flatMap((i) => (i.decision === 'reuse' ? [i.i] : []))).toEqual(plan.reuse);
        expect(infos[steps - 1]!.decision).toBe('compute');
        expect(infos.every((i) => i.dt >= 0)).toBe(true);
      }
    }
  });

  it('same seed → bit-identical output; another seed → a different one', async () => {
    const plan = randomPlan(seededUniform(5), 20);
    const a = await runPlan(11, 20, 'ertacache', plan, 'actual');
    const b = await runPlan(11, 20, 'ertacache', plan, 'actual');
    const c = await runPlan(12, 20, 'ertacache', plan, 'actual');
    expect(b.x).toEqual(a.x);
    expect(c.x).not.toEqual(a.x);
  });
});
