// Registering plans rewrites manifest.json in one rename: entries for the same slot are replaced,
// others kept, fields this version does not know survive, and no temp file is left behind.

import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { manifestFixture } from '../manifest/fixture.ts';
import { parseManifest } from '../manifest/validate.ts';
import { addPlansToManifest, planFileName } from './plan-files.ts';

let dir = '';
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('addPlansToManifest', () => {
  it('replaces same-slot entries, keeps the rest and unknown fields, and stays a valid manifest', async () => {
    dir = await mkdtemp(join(tmpdir(), 'erta-plans-'));
    const j = manifestFixture();
    j['futureField'] = { keep: true };
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(j));
    await addPlansToManifest(dir, [
      { file: 'plans/ertacache-50-b25.json', kind: 'ertacache', steps: 50, budget: 25 }, // same slot: replaced
      { file: 'plans/ertacache-50-b25-hidden.json', kind: 'ertacache', steps: 50, budget: 25, space: 'hidden' },
      { file: 'plans/magcache-50-b25.json', kind: 'magcache', steps: 50, budget: 25 },
    ]);
    const written = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    expect(written.futureField).toEqual({ keep: true });
    expect(written.plans.map((p: { file: string }) => p.file)).toEqual([
      'plans/ertacache-50-b25.json',
      'plans/ertacache-50-b25-hidden.json',
      'plans/magcache-50-b25.json',
      'plans/teacache-50.json',
    ]);
    expect(parseManifest(written, dir).plans).toHaveLength(4);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('planFileName', () => {
  it('names plans by kind, steps, budget and (hidden) space', () => {
    expect(planFileName('ertacache', 50, 25)).toBe('plans/ertacache-50-b25.json');
    expect(planFileName('ertacache', 50, 25, 'hidden')).toBe('plans/ertacache-50-b25-hidden.json');
    expect(planFileName('teacache', 50)).toBe('plans/teacache-50.json');
  });
});
