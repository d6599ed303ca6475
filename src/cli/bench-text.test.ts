// `bench` on a text model (src/cli/bench-text.ts), run for real on the tiny text-to-image test
// model (random weights): the evaluation prompts × seeds, PSNR on the decoded image and on the
// latent, the report files in their own folder, and no classifier whose input does not fit.

import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBenchArgs } from './bench-args.ts';
import { isTextModel, runTextBench, textBenchOut, type TextBenchReport } from './bench-text.ts';

describe('bench on a text model', () => {
  let dir = '';
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'erta-bench-text-')); });
  afterAll(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

  it('tells text models from class models by their manifest', async () => {
    expect(await isTextModel('public/models/tiny-t2i')).toBe(true);
    expect(await isTextModel('public/models/mnist-dit')).toBe(false);
  });

  it('writes to bench/<model name>/ unless --out is given, never over the class model report', () => {
    expect(textBenchOut(parseBenchArgs([])!, 'emoji-dit')).toBe('bench/emoji-dit');
    expect(textBenchOut(parseBenchArgs(['--quick'])!, 'emoji-dit')).toBe('bench/emoji-dit/quick');
    expect(textBenchOut(parseBenchArgs(['--out', '/tmp/x'])!, 'emoji-dit')).toBe('/tmp/x');
    expect(textBenchOut(parseBenchArgs(['--steps', '8', '--budgets', '5'])!, 'emoji-dit')).toBe('bench/emoji-dit/steps-8');
    expect(textBenchOut(parseBenchArgs(['--quick', '--steps', '8', '--budgets', '5'])!, 'emoji-dit')).toBe('bench/emoji-dit/quick/steps-8');
  });

  it('measures every plan-free policy on the evaluation prompts, on the decoded image and the latent', async () => {
    const argv = ['--model', 'public/models/tiny-t2i', '--budgets', '17', '--seeds', '1', '--repeats', '1', '--quick', '--out', dir];
    const log: string[] = [];
    const r: TextBenchReport = await runTextBench(parseBenchArgs(argv)!, argv, (m) => log.push(m));
    const prompts = JSON.parse(await readFile('public/models/tiny-t2i/evaluation-prompts.json', 'utf8')) as string[];
    expect({ model: r.model, steps: r.steps, cases: r.cases, prompts: r.prompts }).toEqual({ model: 'tiny-t2i', steps: 50, cases: prompts.length, prompts: prompts.length });
    // tiny-t2i ships 8-step plans only: the planned policies are skipped with a note, the rest run
    expect(r.rows.map((x) => x.policy)).toEqual(['none', 'uniform', 'taylorseer', 'taylorseer-2']);
    expect(log.some((l) => l.includes('no ertacache plan for budget 17'))).toBe(true);
    // the 32×32 RGB decoder output does not fit the 64×64 emoji classifier: said, not crashed
    expect(r.classifier).toBeNull();
    expect(log.some((l) => l.includes('no category agreement'))).toBe(true);
    const uniform = r.rows.find((x) => x.policy === 'uniform')!;
    expect(uniform.computedSteps).toBe(17);
    expect(uniform.psnr).toBeGreaterThan(5);
    expect(uniform.psnr).toBeLessThan(100); // 17 of 50 steps is not the full-compute image
    expect(uniform.latentPsnr).toBeGreaterThan(5);
    expect(uniform.speedup).toBeGreaterThan(0);
    const md = await readFile(join(dir, 'report.md'), 'utf8');
    expect(md).toContain('on the decoded 32×32 RGB image');
    expect(md).toContain('### Budget 17 of 50');
    expect(JSON.parse(await readFile(join(dir, 'results.json'), 'utf8')).rows).toHaveLength(4);
  }, 120_000);

  it('a video model (Wan style, latent [C, F, H, W]): PSNR and SSIM over every frame of the decoded clip', async () => {
    const model = join(dir, 'wan');
    await cp('public/models/imported-wan-tiny', model, { recursive: true });
    // the imported model lists calibration prompts only: give it two evaluation prompts
    await writeFile(join(model, 'evaluation-prompts.json'), JSON.stringify(['a pink flower', 'a blue house']));
    const manifest = JSON.parse(await readFile(join(model, 'manifest.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(join(model, 'manifest.json'), JSON.stringify({ ...manifest, evaluationPrompts: 'evaluation-prompts.json' }));
    const out = join(dir, 'wan-report');
    const argv = ['--model', model, '--steps', '6', '--budgets', '4', '--seeds', '1', '--repeats', '1', '--quick', '--out', out];
    const r = await runTextBench(parseBenchArgs(argv)!, argv, () => {});
    expect({ image: r.image, cases: r.cases, steps: r.steps }).toEqual({ image: '4×32×32', cases: 2, steps: 6 });
    const uniform = r.rows.find((x) => x.policy === 'uniform')!;
    expect(uniform.computedSteps).toBe(4);
    expect(uniform.psnr).toBeGreaterThan(5);
    expect(uniform.psnr).toBeLessThan(100);
    expect(uniform.ssim).toBeGreaterThan(0);
    expect(uniform.ssim).toBeLessThan(1);
    // the shipped 6-step ERTACache plan (budget 4) runs on the clip too
    expect(r.rows.find((x) => x.policy === 'ertacache')?.computedSteps).toBe(4);
    expect(await readFile(join(out, 'report.md'), 'utf8')).toContain('on the decoded 4×32×32 RGB clip');
  }, 120_000);
});
