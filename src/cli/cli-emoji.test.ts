// The CLI on the trained text-to-emoji model (issue 12): `generate --prompt` writes a 64×64 RGB PNG
// and raw float32 equal to the PyTorch reference loop (tools/emoji/export.py --golden), and runs the
// model's calibrated ERTACache plan at 25 of 50 steps.

import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxAbsDiff, readGoldenIndex, readGoldenTensor } from '../backend/test-model.ts';
import { runCli } from './main.ts';

const MODEL = 'public/models/emoji-dit';
const GOLDEN = 'tools/golden/emoji-dit';

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err: err.join('\n') };
}

describe.skipIf(!existsSync(`${GOLDEN}/golden.json`))('CLI generate --prompt on emoji-dit', () => {
  let dir = '';
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'erta-emoji-')); });
  afterAll(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

  it('writes a 64×64 RGB PNG and raw float32 equal to the PyTorch reference loop', async () => {
    const index = await readGoldenIndex(GOLDEN);
    const r = (index as unknown as { reference: { prompt: string; negative: string; seed: number; steps: number; guidance: number } }).reference;
    const png = join(dir, 'x.png');
    const raw = join(dir, 'x.f32');
    const run = await cli('generate', '--model', MODEL, '--prompt', r.prompt, '--negative-prompt', r.negative, '--seed', String(r.seed),
      '--steps', String(r.steps), '--guidance', String(r.guidance), '--out', png, '--raw', raw, '--json');
    expect(run.code, run.err).toBe(0);
    expect(JSON.parse(run.out.at(-1)!)).toMatchObject({ prompt: r.prompt, steps: r.steps, computedSteps: r.steps, warnings: [] });
    const image = decode(await readFile(png));
    expect([image.width, image.height, image.channels]).toEqual([64, 64, 3]);
    const bytes = await readFile(raw);
    const got = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    const want = await readGoldenTensor(index.graphs['reference']!.outputs['image']!, GOLDEN);
    expect(maxAbsDiff(got, want)).toBeLessThanOrEqual(1e-3);
  });

  it('runs the calibrated ERTACache plan: 25 of 50 steps computed', async () => {
    const run = await cli('generate', '--model', MODEL, '--prompt', 'green apple', '--steps', '50', '--policy', 'ertacache', '--budget', '25',
      '--out', join(dir, 'y.png'), '--json');
    expect(run.code, run.err).toBe(0);
    const report = JSON.parse(run.out.at(-1)!) as { computedSteps: number; reusedSteps: number; plan: unknown };
    expect([report.computedSteps, report.reusedSteps]).toEqual([25, 25]);
    expect(report.plan).toBeTruthy();
  });
});
