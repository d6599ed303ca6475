// Plans are bound to one model and one step count; a mismatch or an absent plan is a typed error
// whose hint is the exact calibrate command that fixes it.

import { describe, expect, it } from 'vitest';
import { DiffusionError } from '../core/errors.ts';
import { manifestFixture } from './fixture.ts';
import { checkPlanMatches, findPlan, planKindFor, policyNeedsPlan } from './plans.ts';
import { parseManifest } from './validate.ts';

const manifest = () => parseManifest(manifestFixture(), 'public/models/mnist-dit');

function thrown(f: () => unknown): DiffusionError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DiffusionError);
    return e as DiffusionError;
  }
  throw new Error('expected an error');
}

describe('checkPlanMatches', () => {
  it('accepts a plan fitted for this model and step count', () => {
    const m = manifest();
    expect(() => checkPlanMatches({ modelHash: m.modelHash, steps: 50 }, m, 50)).not.toThrow();
  });

  it('rejects a plan of another model, naming the calibrate command', () => {
    const m = manifest();
    const e = thrown(() => checkPlanMatches({ modelHash: '0'.repeat(64), steps: 50 }, m, 50));
    expect(e.code).toBe('PLAN_MISMATCH');
    expect(e.message).toMatch(/other|000000000000/);
    expect(e.hint).toContain('npm run calibrate -- --model public/models/mnist-dit --steps 50');
  });

  it('rejects a plan fitted for another step count', () => {
    const m = manifest();
    const e = thrown(() => checkPlanMatches({ modelHash: m.modelHash, steps: 50 }, m, 30));
    expect(e.code).toBe('PLAN_MISMATCH');
    expect(e.message).toMatch(/50 steps.*30/);
    expect(e.hint).toContain('--steps 30');
  });
});

describe('findPlan', () => {
  it('finds plans by kind, steps and budget; ablation variants read the ertacache plan', () => {
    const m = manifest();
    expect(findPlan(m, 'ertacache', 50, { budget: 25 }).file).toBe('plans/ertacache-50-b25.json');
    expect(findPlan(m, 'ertacache-schedule+dt', 50, { budget: 25 }).file).toBe('plans/ertacache-50-b25.json');
    expect(findPlan(m, 'teacache', 50).file).toBe('plans/teacache-50.json');
  });

  it('says which plans exist and how to fit the missing one', () => {
    const m = manifest();
    const e = thrown(() => findPlan(m, 'ertacache', 50, { budget: 34 }));
    expect(e.code).toBe('PLAN_NOT_FOUND');
    expect(e.message).toContain('ertacache/50/b25');
    expect(e.hint).toContain('npm run calibrate -- --model public/models/mnist-dit --steps 50 --budget 34');
    expect(thrown(() => findPlan(m, 'magcache', 50)).code).toBe('PLAN_NOT_FOUND');
  });

  it('asks for a budget when several ertacache plans fit', () => {
    const m = manifest();
    m.plans.push({ file: 'plans/ertacache-50-b34.json', kind: 'ertacache', steps: 50, budget: 34 });
    expect(findPlan(m, 'ertacache', 50, { budget: 34 }).file).toBe('plans/ertacache-50-b34.json');
    const e = thrown(() => findPlan(m, 'ertacache', 50));
    expect(e.code).toBe('BAD_INPUT');
    expect(e.message).toContain('25, 34');
  });

  it('selects the ERTACache rectification space, output by default', () => {
    const m = manifest();
    m.plans.push({ file: 'plans/ertacache-50-b25-hidden.json', kind: 'ertacache', steps: 50, budget: 25, space: 'hidden' });
    expect(findPlan(m, 'ertacache', 50, { budget: 25 }).file).toBe('plans/ertacache-50-b25.json');
    expect(findPlan(m, 'ertacache', 50, { budget: 25, space: 'hidden' }).file).toBe('plans/ertacache-50-b25-hidden.json');
    m.plans.shift(); // only the hidden plan is left
    expect(thrown(() => findPlan(m, 'ertacache', 50, { budget: 25 })).message).toMatch(/output space.*ertacache\/50\/b25\/hidden/);
  });

  it('knows which policies need a plan', () => {
    expect(['ertacache', 'ertacache-schedule', 'teacache', 'magcache'].every(policyNeedsPlan)).toBe(true);
    expect(['none', 'uniform'].some(policyNeedsPlan)).toBe(false);
    expect(planKindFor('ertacache-schedule')).toBe('ertacache');
  });
});
