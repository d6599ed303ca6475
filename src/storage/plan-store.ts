// Plans calibrated in the browser (api.calibrate()), kept in IndexedDB beside the model's files:
// one record per (model hash, policy kind, steps, budget, rectification space), written in one
// transaction when a calibration has finished (a cancelled or failed one writes nothing). The
// runtime lists a model's records at load() and offers them to generate() before the manifest's
// plans (src/runtime/browser-plans.ts says the precedence).

import { createStore, del, entries, set, type UseStore } from 'idb-keyval';
import type { CachePlan } from '../cache/plan.ts';
import type { PlanEntry } from '../manifest/types.ts';

export interface StoredPlan {
  /** `${modelHash}/${kind}-${steps}-b${budget}[-hidden]`: one record per model, policy, steps, budget, space. */
  key: string;
  modelHash: string;
  /** The manifest URL the model was loaded from when the plan was fitted (deleteCachedModel removes it). */
  model: string;
  /** How it is listed: `file` is `browser:<kind>-<steps>-b<budget>[-hidden]`. */
  entry: PlanEntry;
  plan: CachePlan;
  /** ms since the epoch. */
  created: number;
}

export interface PlanStore {
  /** Every stored plan of the model with this hash. */
  list(modelHash: string): Promise<StoredPlan[]>;
  put(p: StoredPlan): Promise<void>;
  /** Removes every plan stored for the model loaded from `manifestUrl`; resolves with how many. */
  removeModel(manifestUrl: string): Promise<number>;
}

/** The record's key and listed file name for a plan of a model. */
export function storedPlanKey(modelHash: string, entry: Pick<PlanEntry, 'kind' | 'steps' | 'budget' | 'space'>): { key: string; file: string } {
  const name = `${entry.kind}-${entry.steps}${entry.budget === undefined ? '' : `-b${entry.budget}`}${entry.space === 'hidden' ? '-hidden' : ''}`;
  return { key: `${modelHash}/${name}`, file: `browser:${name}` };
}

let handle: UseStore | null = null;
/** idb-keyval on its own database ('erta-diffusion-plans'), opened on first use. */
export function idbPlanStore(): PlanStore {
  const store = () => (handle ??= createStore('erta-diffusion-plans', 'plans'));
  const all = async () => (await entries<string, StoredPlan>(store())).map(([, p]) => p);
  return {
    list: async (modelHash) => (await all()).filter((p) => p.modelHash === modelHash),
    put: (p) => set(p.key, p, store()),
    async removeModel(manifestUrl) {
      const mine = (await all()).filter((p) => p.model === manifestUrl);
      for (const p of mine) await del(p.key, store());
      return mine.length;
    },
  };
}

/** A Map-backed PlanStore: Node, tests, and pages without IndexedDB (nothing survives the worker). */
export function memoryPlanStore(): PlanStore {
  const map = new Map<string, StoredPlan>();
  return {
    list: async (modelHash) => [...map.values()].filter((p) => p.modelHash === modelHash).map((p) => structuredClone(p)),
    put: async (p) => void map.set(p.key, structuredClone(p)),
    async removeModel(manifestUrl) {
      const mine = [...map.values()].filter((p) => p.model === manifestUrl);
      mine.forEach((p) => map.delete(p.key));
      return mine.length;
    },
  };
}
