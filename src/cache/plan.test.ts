import { describe, expect, it } from 'vitest';
import { checkPlanMatches, PlanInvalidError, PlanMismatchError, validatePlan } from './plan.ts';
import { ertaPlan, magPlan, teaPlan } from './test-plans.ts';

const good = ertaPlan({ steps: 6, reuse: [1, 3], phi: [1, 0.5, 1, 0.8, 1, 1], a: [0.1], b: [0.2] });
const roundTrip = (p: unknown) => JSON.parse(JSON.stringify(p)) as Record<string, unknown>;

function issuesOf(json: unknown): readonly string[] {
  try {
    validatePlan(json);
  } catch (e) {
    if (e instanceof PlanInvalidError) return e.issues;
    throw e;
  }
  return [];
}

describe('validatePlan', () => {
  it('accepts the plans the calibrator writes, after a JSON round trip', () => {
    for (const p of [good, teaPlan(6, 0.1), magPlan(6, 0.1, [1, 1, 1, 1, 1, 1])]) {
      expect(validatePlan(roundTrip(p))).toEqual(p);
    }
  });

  it('reports every problem at once, each naming its field', () => {
    const bad = { ...roundTrip(good), version: 3, steps: 'six', phi: [2] };
    const issues = issuesOf(bad);
    expect(issues.some((s) => s.startsWith('version: is 3, this build reads 2'))).toBe(true);
    expect(issues.some((s) => s.startsWith('steps:'))).toBe(true);
    expect(issues.some((s) => s.startsWith('phi:'))).toBe(true);
  });

  it('an old (version 1) plan fails with a message naming the calibrate command', () => {
    const old: Record<string, unknown> = { ...roundTrip(good), version: 1 };
    delete old.forecast;
    delete old.timeRule;
    expect(issuesOf(old)[0]).toBe('version: is 1, this build reads 2; plans of version 1 predate the calibrated φ '
      + 'and forecast: run npm run calibrate -- --steps 6 --budget 4 to write a new one');
    expect(() => validatePlan(old)).toThrow(expect.objectContaining({ code: 'PLAN_INVALID', hint: expect.stringContaining('npm run calibrate') }));
  });

  it('checks the v2 fields: φ up to 2, the time rule, rectify, and the forecast', () => {
    expect(issuesOf({ ...roundTrip(good), phi: [1, 2.5, 1, 1, 1, 1] })).toEqual(['phi: must be 6 numbers in [0, 2]']);
    expect(issuesOf({ ...roundTrip(good), timeRule: 'lump' })).toEqual(["timeRule: must be 'proportional' or 'carry'"]);
    const f = ertaPlan({ steps: 6, reuse: [1], forecast: { reuse: [2, 4], gain: 0.75 } });
    expect(validatePlan(roundTrip(f))).toEqual(f);
    const badForecast = roundTrip(f);
    (badForecast.forecast as Record<string, unknown>).reuse = [0];
    (badForecast.forecast as Record<string, unknown>).gain = 'one';
    expect(issuesOf(badForecast)).toEqual([
      'forecast.reuse: steps must lie in [1, 4]: step 0 and the last step always compute', 'forecast.gain: must be a number',
    ]);
  });

  it('refuses a reuse set holding step 0 or the last step (both must compute)', () => {
    expect(issuesOf({ ...roundTrip(good), reuse: [0, 3] })).toContainEqual(expect.stringMatching(/^reuse: .*\[1, 4\]/));
    expect(issuesOf({ ...roundTrip(good), reuse: [3, 5] })).toHaveLength(2); // range, and rectification.steps[0] ∉ S
    expect(issuesOf({ ...roundTrip(good), reuse: [3, 1] })).toContainEqual('reuse: must be strictly ascending');
  });

  it('refuses a/b whose length differs from channels, and unknown kinds', () => {
    const p = roundTrip(good);
    (p.rectification as { channels: number }).channels = 2;
    expect(issuesOf(p)).toEqual([
      'rectification.steps[0]: must be {step ∈ reuse, a, b: 2 numbers each}',
      'rectification.steps[1]: must be {step ∈ reuse, a, b: 2 numbers each}',
    ]);
    expect(issuesOf({ ...roundTrip(good), kind: 'fora' })[0]).toMatch(/^kind: .*expected 'ertacache'/);
    expect(issuesOf(null)).toEqual(['plan: must be a JSON object']);
  });

  it('the error carries a hint on how to get a good plan', () => {
    expect(() => validatePlan({})).toThrow(expect.objectContaining({ code: 'PLAN_INVALID', hint: expect.stringMatching(/calibrat/) }));
  });
});

describe('checkPlanMatches', () => {
  it('fails on another step count or model, passing when they match', () => {
    expect(() => checkPlanMatches(good, { steps: 6, modelHash: 'test-model' })).not.toThrow();
    expect(() => checkPlanMatches(good, { steps: 50 })).toThrow(PlanMismatchError);
    expect(() => checkPlanMatches(good, { steps: 6, modelHash: 'other' })).toThrow(/calibrated for model test-model/);
  });
});
