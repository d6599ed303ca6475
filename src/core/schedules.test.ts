import { describe, expect, it } from 'vitest';
import { advanceClock, flowMatchSigmas, redistributedDt, START_CLOCK } from './schedules.ts';
import type { Clock } from './schedules.ts';

describe('flowMatchSigmas', () => {
  it('shift 1 is the uniform grid 1 … 0', () => {
    expect(Array.from(flowMatchSigmas(4))).toEqual([1, 0.75, 0.5, 0.25, 0]);
  });

  it("applies SD3's σ' = sσ/(1 + (s−1)σ): shift 3 at σ = .5 gives .75", () => {
    const s = flowMatchSigmas(2, 3);
    expect(Array.from(s)).toEqual([1, 0.75, 0]);
    const long = flowMatchSigmas(50, 3);
    expect(long.length).toBe(51);
    for (let i = 0; i < 50; i++) expect(long[i]! > long[i + 1]!).toBe(true);
  });

  it('rejects a non-integer step count', () => {
    expect(() => flowMatchSigmas(2.5)).toThrow(/positive integer/);
  });
});

describe('redistributedDt (ertacache.md (b))', () => {
  it('spreads a shortened step over the rest so Σ Δ = 1', () => {
    const sigmas = flowMatchSigmas(10, 2.5);
    let clock: Clock = START_CLOCK;
    let sum = 0;
    for (let i = 0; i < 10; i++) {
      const dt = redistributedDt(sigmas, i, clock) * (i % 3 === 1 ? 0.4 : 1); // φ = .4 at some steps
      sum += dt;
      clock = advanceClock(sigmas, i, clock, dt);
    }
    expect(sum).toBeCloseTo(1, 14);
  });

  it('equals the nominal step when nothing was shortened', () => {
    const sigmas = flowMatchSigmas(5, 3);
    let clock: Clock = START_CLOCK;
    for (let i = 0; i < 5; i++) {
      const dt = redistributedDt(sigmas, i, clock);
      expect(dt).toBeCloseTo(sigmas[i]! - sigmas[i + 1]!, 15);
      clock = advanceClock(sigmas, i, clock, dt);
    }
  });
});
