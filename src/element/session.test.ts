// RuntimeSession over a fake runtime: the worker is created lazily, the model is loaded once per
// (URL, provider), a new generate() cancels the running one ("latest wins"), cancel() during the
// model load stops before any step, and close() ends the worker.

import { describe, expect, it } from 'vitest';
import type { GenerateRequest, GenerateResult, ModelInfo, RuntimeApi } from '../runtime/api.ts';
import { RuntimeSession } from './session.ts';

interface Fake {
  api: RuntimeApi;
  loads: string[];
  generated: string[];
  cancelled: string[];
  terminated: number;
  release(): void; // lets pending loads resolve
}

function fakeRuntime(options: { failFirstLoad?: boolean; holdLoads?: boolean } = {}): Fake {
  let hold: Array<() => void> = [];
  let released = false;
  const jobs = new Map<string, (e: unknown) => void>();
  const f: Fake = {
    loads: [], generated: [], cancelled: [], terminated: 0,
    release: () => { released = true; for (const h of hold) h(); hold = []; },
    api: {
      async load(url, o) {
        f.loads.push(`${o?.provider} ${url}`);
        if (options.holdLoads && !released) await new Promise<void>((r) => hold.push(r));
        if (options.failFirstLoad && f.loads.length === 1) throw Object.assign(new Error('404'), { code: 'MODEL_NOT_FOUND' });
        return { defaultSteps: 4, plans: [] } as unknown as ModelInfo;
      },
      generate(req: GenerateRequest) {
        f.generated.push(req.jobId!);
        return new Promise<GenerateResult>((resolve, reject) => {
          jobs.set(req.jobId!, reject);
          setTimeout(() => resolve({ jobId: req.jobId!, stats: {} } as GenerateResult), 20);
        });
      },
      async cancel(id) {
        f.cancelled.push(id);
        jobs.get(id)?.(Object.assign(new Error('cancelled'), { code: 'CANCELLED' }));
      },
      async dispose() {},
    },
  };
  return f;
}

const req = () => ({ label: 1, seed: 2 });

describe('RuntimeSession', () => {
  it('connects only when first used, and loads a model once per URL and provider', async () => {
    const fake = fakeRuntime();
    let connects = 0;
    const s = new RuntimeSession(() => { connects++; return { api: fake.api, terminate: () => fake.terminated++ }; });
    expect(s.connected).toBe(false);
    await s.generate('u1', 'wasm', req);
    await s.generate('u1', 'wasm', req);
    await s.generate('u1', 'webgpu', req);
    expect(connects).toBe(1);
    expect(fake.loads).toEqual(['wasm u1', 'webgpu u1']);
  });

  it('forgets a failed load so the next call retries it', async () => {
    const fake = fakeRuntime({ failFirstLoad: true });
    const s = new RuntimeSession(() => ({ api: fake.api, terminate: () => {} }));
    await expect(s.generate('u', 'wasm', req)).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
    await expect(s.generate('u', 'wasm', req)).resolves.toBeDefined();
    expect(fake.loads).toHaveLength(2);
  });

  it('cancels the running job when a new one starts (latest wins)', async () => {
    const fake = fakeRuntime();
    const s = new RuntimeSession(() => ({ api: fake.api, terminate: () => {} }));
    await s.load('u', 'wasm');
    const first = s.generate('u', 'wasm', req);
    await new Promise((r) => setTimeout(r, 0)); // let the first job reach the runtime
    const second = s.generate('u', 'wasm', req);
    await expect(first).rejects.toMatchObject({ code: 'CANCELLED' });
    const { result } = await second;
    expect(fake.cancelled).toEqual([fake.generated[0]]);
    expect(result.jobId).toBe(fake.generated[1]);
    expect(s.runningJobId).toBeNull();
  });

  it('cancel() while the model loads rejects with CANCELLED and runs no step', async () => {
    const fake = fakeRuntime({ holdLoads: true });
    const s = new RuntimeSession(() => ({ api: fake.api, terminate: () => {} }));
    const run = s.generate('u', 'wasm', req);
    const cancelled = s.cancel(); // in the same task as generate(): the job must already exist
    await new Promise((r) => setTimeout(r, 0));
    expect(fake.loads).toHaveLength(1); // the load is under way …
    fake.release(); // … and finishes after the cancel
    await expect(run).rejects.toMatchObject({ code: 'CANCELLED' });
    await cancelled;
    expect(fake.generated).toEqual([]);
  });

  it('close() during a run rejects it with CANCELLED (a terminated worker never answers)', async () => {
    const fake = fakeRuntime();
    fake.api.generate = () => new Promise<GenerateResult>(() => {}); // the worker is gone: no reply, ever
    const s = new RuntimeSession(() => ({ api: fake.api, terminate: () => fake.terminated++ }));
    const run = s.generate('u', 'wasm', req);
    await new Promise((r) => setTimeout(r, 0));
    s.close();
    await expect(run).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(fake.terminated).toBe(1);
  });

  it('close() terminates the worker; the next call starts a new one and loads again', async () => {
    const fake = fakeRuntime();
    let connects = 0;
    const s = new RuntimeSession(() => { connects++; return { api: fake.api, terminate: () => fake.terminated++ }; });
    await s.generate('u', 'wasm', req);
    s.close();
    expect(fake.terminated).toBe(1);
    expect(s.connected).toBe(false);
    await s.generate('u', 'wasm', req);
    expect(connects).toBe(2);
    expect(fake.loads).toHaveLength(2);
  });
});
