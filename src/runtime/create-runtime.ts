// createRuntime: the RuntimeApi over core and an injected backend. It owns the only mutable
// state of a worker — the loaded model and the running job — and enforces the concurrency rule
// stated on RuntimeApi: one generation at a time, a second request is rejected with BUSY.

import type { RuntimeBackend } from '../backend/runtime-backend.ts';
import { isDiffusionError } from '../core/errors.ts';
import {
  RuntimeError,
  type CalibrateRequest, type CalibrateResult, type CalibrationApi, type CalibrationEvent, type GenerateEvent, type GenerateRequest, type GenerateResult, type LoadEvent, type LoadOptions, type ModelInfo,
  type ModelStorageApi, type RuntimeApi, type RuntimeErrorCode,
} from './api.ts';
import { checkCalibrateRequest, checkCallback, checkGenerateRequest, checkJobId, checkLoadOptions, checkManifestUrl } from './check-args.ts';
import { loadModel, type LoadedModel } from './load-model.ts';
import { createEmbeddingCache } from './prompts.ts';
import { runGeneration } from './run-generation.ts';
import { mergePlanEntries, recordOf, runCalibration } from './run-calibration.ts';
import { memoryPlanStore, type PlanStore, type StoredPlan } from '../storage/plan-store.ts';
import { validatePlan } from '../cache/plan.ts';

export interface RuntimeDeps {
  /** Marks buffers to move instead of copy (Comlink.transfer in the worker). Default: identity. */
  transfer?: <V>(value: V, transferables: Transferable[]) => V;
  /** Resolves relative manifest URLs. Default: the global location (the worker's URL). */
  baseUrl?: string;
  /**
   * Where calibrate() keeps plans (the worker: IndexedDB, src/storage/plan-store.ts). Default:
   * in memory, for the runtime's lifetime.
   */
  plans?: PlanStore;
}

interface Job {
  id: string;
  cancelled: boolean;
  done: Promise<unknown>;
}

const BUG_HINT = 'unexpected; please report it with the message (and the browser console)';

/** Anything thrown becomes a coded error, so the page can always switch on `code`. */
function coded(e: unknown, lost: string | null): Error {
  if (lost !== null) return new RuntimeError('DEVICE_LOST', lost, 'reload the model (load()) or the page; '
    + 'if it keeps happening, use provider "wasm"');
  if (e instanceof RuntimeError || isDiffusionError(e)) return e;
  const c = e as { code?: unknown; hint?: unknown } | null;
  if (e instanceof Error && typeof c?.code === 'string' && typeof c.hint === 'string') return e;
  return new RuntimeError('INTERNAL', e instanceof Error ? e.message : String(e), BUG_HINT);
}

/** A stored record is offered to generate() only if its plan passes the plan schema and is this model's. */
function usable(p: StoredPlan, modelHash: string): boolean {
  try {
    return validatePlan(p.plan).modelHash === modelHash && p.entry.kind === p.plan.kind && p.entry.steps === p.plan.steps;
  } catch {
    return false;
  }
}

let jobCounter = 0;
/** The longest a call waits for the page to take its last progress event (eventQueue). */
const EVENT_WAIT_MS = 2000;
const newJobId = () => `job-${Date.now().toString(36)}-${(++jobCounter).toString(36)}`;

export function createRuntime<T>(backend: RuntimeBackend<T>, deps: RuntimeDeps = {}): RuntimeApi & ModelStorageApi & CalibrationApi {
  const transfer = deps.transfer ?? (<V>(v: V) => v);
  const planStore = deps.plans ?? memoryPlanStore();
  let model: LoadedModel<T> | null = null;
  let modelUrl = '';
  /** The loaded model's browser plans (calibrate(), or the store at load); ahead of the manifest's. */
  let storedPlans: StoredPlan[] = [];
  let job: Job | null = null;
  let loading = false;
  const prompts = createEmbeddingCache(); // keyed by model hash: survives reloads, never mixes models

  const busy = (what: string) => new RuntimeError('BUSY', `cannot ${what}: job ${job?.id ?? '(loading)'} is running`,
    'wait for it to finish, or cancel(jobId) it first');
  const fail = (code: RuntimeErrorCode, message: string, hint: string) => new RuntimeError(code, message, hint);

  /** Callbacks are Comlink proxies: a page whose handler throws must not break the run. */
  const safeCall = async <E>(fn: ((e: E) => void) | undefined, event: E): Promise<void> => {
    try {
      await fn?.(event);
    } catch {
      // the page's handler failed; the generation goes on
    }
  };

  /**
   * Fire-and-forget events in call order, and a promise of their delivery. Events travel on the
   * callback's own port (a Comlink proxy), the result on the worker's: nothing orders one against
   * the other, so a call awaits `delivered()` before it returns, or the page could see the last
   * progress event after the result (the demo's "Calibrated …" overwritten by "searching…").
   * A page handler that never returns holds the call for at most EVENT_WAIT_MS.
   */
  const eventQueue = <E>(fn: ((e: E) => void) | undefined) => {
    let last: Promise<void> = Promise.resolve();
    return {
      emit: (e: E): void => {
        last = safeCall(fn, e);
      },
      delivered: async (): Promise<void> => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([last, new Promise<void>((r) => { timer = setTimeout(r, EVENT_WAIT_MS); })]);
        clearTimeout(timer);
      },
    };
  };

  /** ModelInfo.plans: the browser plans first, then the manifest's that none of them replaces. */
  const listPlans = (m: LoadedModel<T>) => {
    m.info.plans = mergePlanEntries(m.manifest.plans, storedPlans.map((p) => p.entry));
  };

  async function release(): Promise<void> {
    const m = model;
    model = null;
    storedPlans = [];
    if (m) await m.open.release();
  }

  return {
    async load(manifestUrl: string, options?: LoadOptions, onProgress?: (e: LoadEvent) => void): Promise<ModelInfo> {
      const base = deps.baseUrl ?? (globalThis as { location?: { href: string } }).location?.href;
      const url = checkManifestUrl(manifestUrl, base);
      const opts = checkLoadOptions(options);
      checkCallback('onProgress', onProgress);
      if (job || loading) throw busy('load');
      loading = true;
      const events = eventQueue<LoadEvent>(onProgress ?? undefined);
      try {
        await release(); // free the old model's GPU memory before the new one claims its own
        const loaded = await loadModel(backend, url, opts, events.emit);
        try {
          const records = await planStore.list(loaded.manifest.modelHash);
          storedPlans = records.filter((p) => usable(p, loaded.manifest.modelHash));
          if (storedPlans.length < records.length) {
            const message = `${records.length - storedPlans.length} stored plan(s) of this model are invalid and are ignored; calibrate() again to replace them`;
            loaded.info.warnings.push(message);
            events.emit({ type: 'warning', message });
          }
        } catch (e) {
          const message = `stored plans could not be read (${e instanceof Error ? e.message : String(e)}); the manifest's plans are used`;
          loaded.info.warnings.push(message);
          events.emit({ type: 'warning', message });
        }
        listPlans(loaded);
        model = loaded;
        modelUrl = url;
        return model.info;
      } catch (e) {
        throw coded(e, null);
      } finally {
        await events.delivered();
        loading = false;
      }
    },

    async generate(req: GenerateRequest, onEvent?: (e: GenerateEvent) => void): Promise<GenerateResult> {
      const request = checkGenerateRequest(req);
      checkCallback('onEvent', onEvent);
      if (job || loading) throw busy('generate');
      if (!model) throw fail('NOT_LOADED', 'generate() was called before load()', 'await load(manifestUrl) first');
      const lost = model.open.lostReason();
      if (lost !== null) throw coded(null, lost);
      const current: Job = { id: request.jobId ?? newJobId(), cancelled: false, done: Promise.resolve() };
      job = current;
      const ctx = {
        backend, model, jobId: current.id, prompts, storedPlans,
        isCancelled: () => current.cancelled,
        emit: (e: GenerateEvent, transferables: Transferable[] = []) => safeCall(onEvent ?? undefined, transfer(e, transferables)),
      };
      const run = runGeneration(ctx, request);
      current.done = run.catch(() => {});
      try {
        const result = await run;
        const buffers = new Set<Transferable>([result.image.buffer, result.frame.pixels.buffer, ...(result.frames ?? []).map((f) => f.pixels.buffer)]);
        return transfer(result, [...buffers]);
      } catch (e) {
        throw coded(e, model?.open.lostReason() ?? null);
      } finally {
        job = null;
      }
    },

    async calibrate(req: CalibrateRequest, onEvent?: (e: CalibrationEvent) => void): Promise<CalibrateResult> {
      const request = checkCalibrateRequest(req);
      checkCallback('onEvent', onEvent);
      if (job || loading) throw busy('calibrate');
      if (!model) throw fail('NOT_LOADED', 'calibrate() was called before load()', 'await load(manifestUrl) first');
      const lost = model.open.lostReason();
      if (lost !== null) throw coded(null, lost);
      const current: Job = { id: request.jobId ?? newJobId(), cancelled: false, done: Promise.resolve() };
      job = current;
      const m = model;
      const events = eventQueue<CalibrationEvent>(onEvent ?? undefined);
      const run = runCalibration({
        backend, model: m, manifestUrl: modelUrl, store: planStore, jobId: current.id,
        isCancelled: () => current.cancelled, emit: events.emit,
      }, request);
      current.done = run.catch(() => {});
      try {
        const result = await run;
        if (model === m) { // later generations of this model use it
          const record = recordOf(result, m.manifest.modelHash, modelUrl);
          storedPlans = [record, ...storedPlans.filter((p) => p.key !== record.key)];
          listPlans(m);
        }
        return result;
      } catch (e) {
        throw coded(e, model?.open.lostReason() ?? null);
      } finally {
        await events.delivered();
        job = null;
      }
    },

    async cancel(jobId: string): Promise<void> {
      const id = checkJobId(jobId);
      if (id !== null && job?.id === id) job.cancelled = true;
    },

    async cachedModels() {
      try {
        return (await backend.cachedModels?.()) ?? [];
      } catch (e) {
        throw coded(e, null);
      }
    },

    async deleteCachedModel(manifestUrl: string): Promise<number> {
      const base = deps.baseUrl ?? (globalThis as { location?: { href: string } }).location?.href;
      const url = checkManifestUrl(manifestUrl, base);
      if (loading) throw busy('delete a stored model');
      try {
        await planStore.removeModel(url); // the plans calibrated for it go with its files
        if (url === modelUrl) {
          storedPlans = [];
          if (model) listPlans(model);
        }
        return (await backend.deleteCachedModel?.(url)) ?? 0;
      } catch (e) {
        throw coded(e, null);
      }
    },

    async dispose(): Promise<void> {
      const running = job;
      if (running) {
        running.cancelled = true;
        await running.done; // tensors of the run are disposed by its own finally blocks
      }
      await release();
    },
  };
}
