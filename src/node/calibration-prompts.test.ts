// Calibration on prompts: a text model is calibrated on its shipped calibration prompts (or a
// given file), never on its evaluation prompts; the plans it writes load and run in generate().

import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calibrate } from './calibrate.ts';
import { generate } from './generate.ts';
import { readPromptList } from './calibration-prompts.ts';

describe('calibrate on prompts (tiny-t2i)', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'erta-t2i-cal-'));
    await cp('public/models/tiny-t2i', dir, { recursive: true });
    const m = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    await writeFile(join(dir, 'manifest.json'), JSON.stringify({ ...m, plans: [] }));
  });
  afterAll(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

  it('refuses evaluation prompts, and labels on a text model', async () => {
    const file = join(dir, 'bad.txt');
    await writeFile(file, 'a red apple\na purple car\n');
    await expect(calibrate({ model: dir, steps: 4, budgets: [3], prompts: file, evaluate: false }))
      .rejects.toMatchObject({ code: 'CALIBRATION_SEED', message: expect.stringContaining('"a purple car"') });
    await expect(calibrate({ model: dir, steps: 4, budgets: [3], labels: [1], evaluate: false }))
      .rejects.toMatchObject({ code: 'BAD_INPUT', message: expect.stringContaining('text-conditioned') });
  });

  it('fits plans on the shipped calibration prompts that generate() then runs', async () => {
    const lines: string[] = [];
    const r = await calibrate({ model: dir, steps: 4, budgets: [3], evaluate: false, onProgress: (l) => lines.push(l) });
    const prompts = await readPromptList(join(dir, 'calibration-prompts.json'));
    expect(lines.join('\n')).toContain(`calibrating on ${prompts.length} prompts`);
    expect(r.samples).toBe(2 * prompts.length); // seeds 0, 1 × prompts
    expect(r.plans.map((p) => p.kind).sort()).toEqual(['easycache', 'ertacache', 'magcache', 'teacache']);
    const out = await generate({ model: dir, prompt: 'a purple car', steps: 4, policy: 'ertacache', budget: 3, seed: 5 });
    expect(out.report.computedSteps).toBeLessThanOrEqual(3);
    expect(out.report.plan).toMatch(/ertacache-4-b3/);
  });
});
