// The element's connection to the runtime: a worker created on first use, the model loaded
// once per (manifest URL, provider), one generation at a time with "latest wins" (a new
// generate() cancels the running one and waits for it to settle). No DOM here.

import type {
  CalibrateRequest, CalibrateResult, CalibrationApi, CalibrationEvent, GenerateEvent, GenerateRequest, GenerateResult, LoadEvent,
  ModelInfo, ProviderRequest, RuntimeApi,
} from '../runtime/api.ts';

/** A runtime in a worker: the RuntimeApi (with calibrate(), where the runtime has it) plus a way to end the worker. */
export interface RuntimeConnection {
  api: RuntimeApi & Partial<CalibrationApi>;
  /** Terminates the worker at once; pending calls reject. */
  terminate(): void;
}

export type Connect = () => RuntimeConnection;
export type JobRequest = Omit<GenerateRequest, 'jobId'>;

export interface SessionHooks {
  onLoad?(e: LoadEvent): void;
  /** The model is loaded (or was already); called before the first step. */
  onModel?(info: ModelInfo): void;
  onEvent?(e: GenerateEvent): void;
}

interface Job {
  id: string;
  done: Promise<unknown>;
  cancelled: boolean;
  /** Rejects the job's pending calls: a terminated worker never answers them. */
  abort(reason: Error): void;
}

let jobCounter = 0;
function newJobId(): string {
  jobCounter += 1;
  return `erta-${Date.now().toString(36)}-${jobCounter}`;
}

export class RuntimeSession {
  readonly #connect: Connect;
  #conn: RuntimeConnection | null = null;
  #model: { key: string; info: Promise<ModelInfo> } | null = null;
  #job: Job | null = null;

  constructor(connect: Connect) {
    this.#connect = connect;
  }

  /** True once a worker exists (it is created lazily by load or generate). */
  get connected(): boolean {
    return this.#conn !== null;
  }

  get runningJobId(): string | null {
    return this.#job?.id ?? null;
  }

  #connection(): RuntimeConnection {
    this.#conn ??= this.#connect();
    return this.#conn;
  }

  /** Load (or reuse) the model. A failed load is forgotten so the next call retries. */
  load(manifestUrl: string, provider: ProviderRequest, onLoad?: (e: LoadEvent) => void): Promise<ModelInfo> {
    const key = `${provider} ${manifestUrl}`;
    if (this.#model?.key === key) return this.#model.info;
    const conn = this.#connection();
    const info = conn.api.load(manifestUrl, { provider }, onLoad);
    const entry = { key, info };
    this.#model = entry;
    info.catch(() => {
      if (this.#model === entry) this.#model = null;
    });
    return info;
  }

  /** Cancel the running job (if any) and wait until it has settled. */
  async cancel(): Promise<void> {
    const job = this.#job;
    if (job !== null) await this.#stop(job);
  }

  async #stop(job: Job): Promise<void> {
    job.cancelled = true;
    await this.#conn?.api.cancel(job.id).catch(() => undefined);
    await job.done.catch(() => undefined);
  }

  /** `request` is built once the model is known (defaults such as the budget depend on it). */
  generate(manifestUrl: string, provider: ProviderRequest, request: (model: ModelInfo) => JobRequest,
    hooks: SessionHooks = {}): Promise<{ result: GenerateResult; model: ModelInfo }> {
    return this.#run(manifestUrl, provider, hooks, (api, model, jobId) => api.generate({ ...request(model), jobId }, hooks.onEvent));
  }

  /**
   * Fits a plan for the model (api.calibrate): a job like a generation (latest wins, cancel()
   * stops it). An abort of `signal` cancels it; the promise then rejects with CANCELLED.
   */
  calibrate(manifestUrl: string, provider: ProviderRequest, request: (model: ModelInfo) => Omit<CalibrateRequest, 'jobId'>,
    hooks: SessionHooks & { onCalibration?(e: CalibrationEvent): void } = {}, signal?: AbortSignal): Promise<{ result: CalibrateResult; model: ModelInfo }> {
    if (signal?.aborted) return Promise.reject(cancelled('calibration aborted before it started'));
    const run = this.#run(manifestUrl, provider, hooks, (api, model, jobId) => {
      if (!api.calibrate) throw Object.assign(new Error('this runtime has no calibrate()'), { code: 'UNSUPPORTED', hint: 'use the package\'s own worker' });
      return api.calibrate({ ...request(model), jobId }, hooks.onCalibration);
    });
    const job = this.#job!;
    const onAbort = () => void this.#stop(job);
    signal?.addEventListener('abort', onAbort, { once: true });
    return run.finally(() => signal?.removeEventListener('abort', onAbort));
  }

  async #run<R>(manifestUrl: string, provider: ProviderRequest, hooks: SessionHooks,
    call: (api: RuntimeConnection['api'], model: ModelInfo, jobId: string) => Promise<R>): Promise<{ result: R; model: ModelInfo }> {
    // The new job is current at once (synchronously), so a cancel() right after generate() hits it.
    const previous = this.#job;
    let abort: (reason: Error) => void = () => {};
    const aborted = new Promise<never>((_, reject) => { abort = reject; });
    aborted.catch(() => undefined); // observed through the races below
    const job: Job = { id: newJobId(), done: Promise.resolve(), cancelled: false, abort };
    this.#job = job;
    const run = (async () => {
      if (previous !== null) await this.#stop(previous);
      const model = await Promise.race([this.load(manifestUrl, provider, hooks.onLoad), aborted]);
      if (job.cancelled || this.#conn === null) throw cancelled('generation cancelled before it started');
      hooks.onModel?.(model);
      const result = await Promise.race([call(this.#conn.api, model, job.id), aborted]);
      return { result, model };
    })();
    job.done = run;
    try {
      return await run;
    } catch (e) {
      // A lost GPU device or a worker that lost its model: load again on the next call.
      const code = (e as { code?: unknown } | null)?.code;
      if (code === 'DEVICE_LOST' || code === 'NOT_LOADED') this.#model = null;
      throw e;
    } finally {
      if (this.#job === job) this.#job = null;
    }
  }

  /** Terminate the worker and forget the model; the next call starts a fresh worker. */
  close(): void {
    const conn = this.#conn;
    this.#job?.abort(cancelled('generation stopped: the element was removed and its worker ended'));
    this.#conn = null;
    this.#model = null;
    this.#job = null;
    conn?.terminate();
  }
}

function cancelled(message: string): Error & { code: string; hint: string } {
  return Object.assign(new Error(message), { code: 'CANCELLED', hint: 'nothing to fix; start a new run' });
}
