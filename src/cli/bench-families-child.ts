// Child process of `npm run bench:families` (bench-families.ts): times one imported family's
// ERTACache plan against full compute through the same runtime a page uses (createRuntime: load,
// generate) on onnxruntime-node, in a process that holds only that model (src/node/apart.ts: the
// families bench's own process has just exported, imported and calibrated), and sends the row back.

import { pathToFileURL } from 'node:url';
import { createNodeBackend } from '../backend/node-backend.ts';
import { timedRequest } from '../bench/families.ts';
import { measureInterleaved, type SpeedRow } from '../bench/speed.ts';
import { serveApart } from '../node/apart.ts';
import { createRuntime } from '../runtime/create-runtime.ts';

export interface FamilyTimeJob {
  family: string;
  model: string; // the imported model's folder
  steps: number;
  budget: number;
  threads: number;
  repeats: number;
}

async function timeFamily(job: FamilyTimeJob, log: (m: string) => void): Promise<SpeedRow> {
  const rt = createRuntime(createNodeBackend({ sessionOptions: { intraOpNumThreads: job.threads, interOpNumThreads: 1 } }),
    { baseUrl: pathToFileURL(job.model).href + '/' });
  try {
    const info = await rt.load('manifest.json');
    const gen = async (k: number, policy?: { kind: string; budget: number }) => {
      const t0 = performance.now();
      const r = await rt.generate({ ...timedRequest(k, info.conditioning, info.classes), steps: job.steps, ...(policy ? { policy } : {}) });
      return { ms: performance.now() - t0, stats: r.stats };
    };
    const [speed] = await measureInterleaved(job.steps, [{ policy: 'ertacache', budget: job.budget }],
      (k) => gen(k), (c, k) => gen(k, { kind: 'ertacache', budget: c.budget! }), job.repeats, (s) => log(`${job.family} node: ${s}`));
    return speed!;
  } finally {
    await rt.dispose();
  }
}

serveApart('bench-families-child.ts', timeFamily);
