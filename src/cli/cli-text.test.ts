// The CLI on the tiny text-to-image model: `generate --prompt` writes an RGB PNG (fast-png) and
// raw float32 that match the PyTorch reference loop; a class flag on a text model and a prompt on
// a class model fail with CONDITIONING_MISMATCH and a hint, never a stack trace.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode, decodeApng } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxAbsDiff, readGoldenIndex, readGoldenTensor } from '../backend/test-model.ts';
import { runCli } from './main.ts';

const MODEL = 'public/models/tiny-t2i';
const GOLDEN = 'tools/golden/tiny-t2i';

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err: err.join('\n') };
}

describe('CLI generate --prompt on tiny-t2i', () => {
  let dir = '';
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'erta-t2i-')); });
  afterAll(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

  it('writes an RGB PNG and raw float32 equal to the PyTorch reference', async () => {
    const png = join(dir, 'x.png');
    const raw = join(dir, 'x.f32');
    const r = await cli('generate', '--model', MODEL, '--prompt', 'a red apple with a shiny leaf', '--negative-prompt', '',
      '--seed', '7', '--steps', '6', '--guidance', '3', '--out', png, '--raw', raw, '--json');
    expect(r.code, r.err).toBe(0);
    const report = JSON.parse(r.out.at(-1)!);
    expect(report).toMatchObject({ prompt: 'a red apple with a shiny leaf', label: null, steps: 6, computedSteps: 6, warnings: [] });
    const image = decode(await readFile(png));
    expect({ width: image.width, height: image.height, channels: image.channels, depth: image.depth }).toEqual({ width: 32, height: 32, channels: 3, depth: 8 });
    const bytes = await readFile(raw);
    const got = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    const index = await readGoldenIndex(GOLDEN);
    const want = await readGoldenTensor(index.graphs['reference']!.outputs['image']!, GOLDEN);
    expect(maxAbsDiff(got, want)).toBeLessThanOrEqual(1e-3);
    // The PNG holds the same image: pixel (0,0) red = round((x + 1) / 2 · 255).
    expect(image.data[0]).toBe(Math.min(255, Math.max(0, Math.round((want[0]! + 1) * 127.5))));
  });

  it('prints a truncation warning for an over-long prompt', async () => {
    const r = await cli('generate', '--model', MODEL, '--prompt', 'a tiny glossy gold star on a dark blue cloud with a sad ghost', '--steps', '1');
    expect(r.code, r.err).toBe(0);
    expect(r.out.join('\n')).toMatch(/warning: prompt .* has 14 tokens; the text encoder reads 8/);
  });

  it('--class on a text model and --prompt on a class model are CONDITIONING_MISMATCH', async () => {
    const a = await cli('generate', '--model', MODEL, '--class', '3', '--steps', '1');
    expect(a.code).toBe(1);
    expect(a.err).toMatch(/CONDITIONING_MISMATCH.*text-conditioned/s);
    const b = await cli('generate', '--prompt', 'a seven', '--steps', '1');
    expect(b.code).toBe(1);
    expect(b.err).toMatch(/CONDITIONING_MISMATCH.*class-conditional/s);
    expect(a.err + b.err).not.toMatch(/\n\s+at /);
  });
});

describe('CLI generate --prompt on the imported Wan-style video model', () => {
  const VIDEO = 'public/models/imported-wan-tiny';
  let dir = '';
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'erta-video-')); });
  afterAll(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

  it('--out writes the clip as an animated PNG at --fps, --strip as one PNG of the frames side by side', async () => {
    const apng = join(dir, 'clip.png');
    const strip = join(dir, 'strip.png');
    const common = ['generate', '--model', VIDEO, '--prompt', 'a red apple', '--seed', '2', '--steps', '2'];
    const a = await cli(...common, '--out', apng, '--fps', '4');
    expect(a.code, a.err).toBe(0);
    const clip = decodeApng(await readFile(apng));
    expect([clip.width, clip.height, clip.numberOfFrames]).toEqual([32, 32, 4]);
    expect(clip.frames.map((f) => f.delayNumber / f.delayDenominator)).toEqual([0.25, 0.25, 0.25, 0.25]);
    const b = await cli(...common, '--out', strip, '--strip');
    expect(b.code, b.err).toBe(0);
    const s = decode(await readFile(strip));
    expect([s.width, s.height, s.channels]).toEqual([128, 32, 3]);
    // frame 2's pixel (3, 4) at column 2·32 + 4 of the strip
    expect(s.data[(3 * 128 + 64 + 4) * 3 + 1]).toBe(clip.frames[2]!.data[(3 * 32 + 4) * 3 + 1]);
  });

  it('--strip on a still-image model is a usage error naming the flag', async () => {
    const r = await cli('generate', '--model', MODEL, '--prompt', 'a red apple', '--steps', '1', '--strip');
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/--strip and --fps are for video models/);
  });
});
