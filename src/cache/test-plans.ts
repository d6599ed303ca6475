// Valid plans built in code, for tests (and docs): the smallest objects validatePlan accepts.

import { PLAN_VERSION } from './plan.ts';
import type { TimeRule } from '../core/types.ts';
import type { CalibrationInfo, EasyCachePlan, ErtaCachePlan, ForecastPlan, MagCachePlan, PlanHeader, TeaCachePlan } from './plan.ts';

const calibration: CalibrationInfo = {
  seeds: [0], labels: [0], samples: 1, timeMode: 'actual', description: 'test fixture', error: {},
};

function header(steps: number, computedSteps: number): PlanHeader {
  return {
    version: PLAN_VERSION, modelHash: 'test-model', steps, shift: 1, guidance: 1,
    budget: computedSteps, computedSteps, calibration,
  };
}

export interface ErtaPlanSpec {
  steps: number;
  reuse: number[];
  phi?: number[]; // default 1 everywhere
  a?: number[]; // rectification per channel, the same at every reused step; none if absent
  b?: number[];
  space?: 'output' | 'hidden';
  phiPaper?: number[]; // default 1 everywhere
  timeRule?: TimeRule; // default 'proportional'
  rectify?: boolean; // default true when a is given
  forecast?: Partial<ForecastPlan> & { reuse: number[] }; // none if absent
}

export function ertaPlan(spec: ErtaPlanSpec): ErtaCachePlan {
  const a = spec.a;
  const rectification = a === undefined ? null : {
    space: spec.space ?? 'output', channels: a.length,
    steps: spec.reuse.map((step) => ({ step, a, b: spec.b ?? a.map(() => 0) })),
  };
  const ones = new Array<number>(spec.steps).fill(1);
  const f = spec.forecast;
  const forecast: ForecastPlan | null = f === undefined ? null : {
    lambda: 0.1, gain: 1, phi: ones, timeRule: 'proportional', rectification: null, rectify: false, ...f,
  };
  return {
    ...header(spec.steps, spec.steps - spec.reuse.length), kind: 'ertacache', lambda: 0.1,
    reuse: spec.reuse, phi: spec.phi ?? ones, phiPaper: spec.phiPaper ?? ones, timeRule: spec.timeRule ?? 'proportional',
    rectification, rectify: spec.rectify ?? rectification !== null, forecast,
  };
}

export function easyPlan(steps: number, delta: number, retSteps = 2): EasyCachePlan {
  return { ...header(steps, steps), kind: 'easycache', delta, retSteps };
}

/** f(x) = x by default: the accumulator sums the raw indicator. */
export function teaPlan(steps: number, delta: number, coefficients = [0, 0, 0, 1, 0]): TeaCachePlan {
  return { ...header(steps, steps), kind: 'teacache', coefficients, delta };
}

export function magPlan(steps: number, delta: number, gamma: number[], K = 2, retention = 0.2): MagCachePlan {
  return { ...header(steps, steps), kind: 'magcache', gamma, delta, K, retention };
}
