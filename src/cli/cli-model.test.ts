// The CLI end to end on a real model (a temporary copy, so plans can be written): generate
// writes a valid PNG, raw float32 and one JSON line; the same seed gives the same bytes; a
// missing plan names the calibrate command; calibrate writes plans that generate then uses;
// a plan of another model is refused.

import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAVE_MODEL, MODEL_DIR, skipReason } from '../backend/test-model.ts';
import { readManifestFile } from '../backend/node-files.ts';
import { runCli } from './main.ts';

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err: err.join('\n') };
}

const suite = `CLI on ${MODEL_DIR}`;
if (!HAVE_MODEL) console.warn(`${suite} ${skipReason('model')}`);

describe.skipIf(!HAVE_MODEL)(suite, () => {
  let dir = '';
  const gen = (...argv: string[]) => cli('generate', '--model', dir, '--class', '7', '--steps', '6', ...argv);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'erta-cli-'));
    const m = await readManifestFile(MODEL_DIR);
    const files = ['manifest.json', ...Object.values(m.graphs).map((g) => g.file)];
    for (const f of files) await copyFile(join(MODEL_DIR, f), join(dir, f));
    await writeFile(join(dir, 'manifest.json'), JSON.stringify({ ...JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')), plans: [] }));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('generate writes a PNG, little-endian float32 and one JSON line; a seed fixes the bytes', async () => {
    const png = join(dir, 'x.png');
    const r = await gen('--seed', '3', '--out', png, '--raw', join(dir, 'a.f32'), '--json');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toHaveLength(1);
    const report = JSON.parse(r.out[0]!);
    expect(report).toMatchObject({ policy: 'none', steps: 6, computedSteps: 6, reusedSteps: 0, budget: null, plan: null, provider: 'cpu' });
    expect(report.ms).toBeGreaterThan(0);
    expect([...(await readFile(png)).subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
    await gen('--seed', '3', '--raw', join(dir, 'b.f32'));
    await gen('--seed', '4', '--raw', join(dir, 'c.f32'));
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((n) => readFile(join(dir, `${n}.f32`))));
    expect(a!.byteLength).toBe(784 * 4);
    expect(a!.equals(b!)).toBe(true);
    expect(a!.equals(c!)).toBe(false);
  });

  it('uniform honours --budget (exactly that many evenly spaced computed steps), as the worker does', async () => {
    const r = await cli('generate', '--model', dir, '--class', '7', '--steps', '12', '--policy', 'uniform', '--budget', '5', '--json');
    expect(r.code, r.err).toBe(0);
    const report = JSON.parse(r.out[0]!);
    expect(report).toMatchObject({ steps: 12, computedSteps: 5, budget: 5 });
    const decided = [...report.decisions as string].flatMap((d, i) => (d === 'C' ? [i] : []));
    expect(decided).toEqual([0, 3, 6, 8, 11]); // round(k·11/4), k = 0…4
    const over = await cli('generate', '--model', dir, '--class', '7', '--steps', '6', '--policy', 'uniform', '--budget', '9');
    expect(over.code).toBe(2); // a bad flag value: usage, naming the flag
    expect(over.err).toMatch(/--budget must be in \[2, 6\]/);
  });

  it('a policy without a plan names the calibrate command', async () => {
    const r = await gen('--policy', 'ertacache', '--budget', '3');
    expect(r.code).toBe(1);
    expect(r.err).toContain('PLAN_NOT_FOUND');
    expect(r.err).toContain(`npm run calibrate -- --model ${dir} --steps 6 --budget 3`);
  });

  it('calibrate writes plans and lists them; generate uses them; a foreign plan is refused', async () => {
    const c = await cli('calibrate', '--model', dir, '--steps', '6', '--budget', '3', '--seeds', '0', '--labels', '7', '--skip-eval', '--json');
    expect(c.code, c.err).toBe(0);
    const report = JSON.parse(c.out.at(-1)!);
    expect(report.plans.map((p: { file: string }) => p.file).sort()).toEqual(
      ['plans/easycache-6-b3.json', 'plans/ertacache-6-b3.json', 'plans/magcache-6-b3.json', 'plans/teacache-6-b3.json'],
    );
    const erta = report.plans.find((p: { kind: string }) => p.kind === 'ertacache');
    expect(erta.reuse).toHaveLength(6 - erta.computedSteps); // the search aims at 3; it may land beside it
    expect((await readManifestFile(dir)).plans).toHaveLength(4);

    const f = await gen('--policy', 'ertacache-forecast', '--budget', '3', '--raw', join(dir, 'f.f32'), '--json');
    expect(f.code, f.err).toBe(0);
    const forecast = JSON.parse(await readFile(join(dir, 'plans/ertacache-6-b3.json'), 'utf8')).forecast;
    expect(JSON.parse(f.out[0]!)).toMatchObject({
      policy: 'ertacache-forecast', plan: 'plans/ertacache-6-b3.json', readbacks: 0,
      decisions: [...'CCCCCC'].map((_, i) => (forecast.reuse.includes(i) ? 'R' : 'C')).join(''),
    });
    expect((await readFile(join(dir, 'f.f32'))).byteLength).toBe(784 * 4);
    const t = await gen('--policy', 'taylorseer', '--budget', '4', '--json');
    expect(t.code, t.err).toBe(0);
    expect(JSON.parse(t.out[0]!)).toMatchObject({ policy: 'taylorseer', computedSteps: 4, decisions: 'CCCRRC', plan: null });

    const g = await gen('--policy', 'ertacache', '--budget', '3', '--json');
    expect(g.code, g.err).toBe(0);
    expect(JSON.parse(g.out[0]!)).toMatchObject({
      computedSteps: erta.computedSteps,
      decisions: [...'CCCCCC'].map((_, i) => (erta.reuse.includes(i) ? 'R' : 'C')).join(''),
      plan: 'plans/ertacache-6-b3.json',
      budget: 3,
    });

    const planPath = join(dir, 'plans/ertacache-6-b3.json');
    const plan = JSON.parse(await readFile(planPath, 'utf8'));
    await writeFile(planPath, JSON.stringify({ ...plan, modelHash: '0'.repeat(64) }));
    const bad = await gen('--policy', 'ertacache', '--budget', '3');
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('PLAN_MISMATCH');
    expect(bad.err).toContain(`npm run calibrate -- --model ${dir} --steps 6`);
  });
});
