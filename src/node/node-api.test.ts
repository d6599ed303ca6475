// The Node API (erta-diffusion/node) on the real shipped model: generate() returns the sample,
// its PNG and the report, and by default uses the model found relative to its own module;
// bad options are typed BAD_INPUT errors naming the option; the CLI words the same errors as
// flags (exit status 2 with the usage).

import { describe, expect, it } from 'vitest';
import { HAVE_MODEL, MODEL_DIR, skipReason } from '../backend/test-model.ts';
import { runCli } from '../cli/main.ts';
import { calibrate, generate, OptionError, PACKAGED_MODEL_DIR } from './index.ts';
import { resolve } from 'node:path';

async function cli(...argv: string[]) {
  const err: string[] = [];
  const code = await runCli(argv, { out: () => {}, err: (l) => err.push(l) });
  return { code, err: err.join('\n') };
}

describe('Node API: option checks (no model needed)', () => {
  it.each([
    [{ label: -1 }, 'label'],
    [{ label: 1.5 }, 'label'],
    [{ label: 3, seed: 2 ** 32 }, 'seed'],
    [{ label: 3, steps: 0 }, 'steps'],
    [{ label: 3, guidance: Number.NaN }, 'guidance'],
    [{ label: 3, graphs: 'both' as never }, 'graphs'],
  ])('generate(%o) is refused with BAD_INPUT naming %s', async (options, option) => {
    const e = await generate(options).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OptionError);
    expect(e).toMatchObject({ code: 'BAD_INPUT', option });
    expect((e as Error).message).toMatch(new RegExp(`^${option} must be`));
  });

  it('calibrate needs budgets', async () => {
    await expect(calibrate({ budgets: [] })).rejects.toMatchObject({ code: 'BAD_INPUT', option: 'budgets' });
    await expect(calibrate({ budgets: [1] })).rejects.toMatchObject({ code: 'BAD_INPUT', option: 'budgets' });
  });

  it('the packaged model is found relative to the module (the repository root here)', () => {
    expect(resolve(PACKAGED_MODEL_DIR)).toBe(resolve('public/models/mnist-dit'));
  });
});

const suite = `Node API on ${MODEL_DIR}`;
if (!HAVE_MODEL) console.warn(`${suite} ${skipReason('model')}`);

describe.skipIf(!HAVE_MODEL)(suite, () => {
  it('generate() returns the sample, a PNG and the report; the same seed gives the same sample', async () => {
    const a = await generate({ model: MODEL_DIR, label: 7, seed: 3, steps: 4 });
    expect(a).toMatchObject({ channels: 1, height: 28, width: 28 });
    expect(a.image).toHaveLength(784);
    expect(a.report).toMatchObject({ policy: 'none', steps: 4, computedSteps: 4, reusedSteps: 0, label: 7, seed: 3, provider: 'cpu', decisions: 'CCCC' });
    expect([...a.png().subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
    const b = await generate({ model: MODEL_DIR, label: 7, seed: 3, steps: 4 });
    const c = await generate({ model: MODEL_DIR, label: 7, seed: 4, steps: 4 });
    expect(b.image).toEqual(a.image);
    expect(c.image).not.toEqual(a.image);
  });

  it('a label beyond the model\'s classes: BAD_INPUT from the API, a usage error (status 2) from the CLI', async () => {
    await expect(generate({ model: MODEL_DIR, label: 10, steps: 2 })).rejects.toMatchObject({
      code: 'BAD_INPUT', option: 'label', message: 'label must be below 10 for mnist-dit',
    });
    const r = await cli('generate', '--model', MODEL_DIR, '--class', '10', '--steps', '2');
    expect(r.code).toBe(2);
    expect(r.err).toContain('error: --class must be below 10 for mnist-dit');
    expect(r.err).toContain('usage: npm run generate');
  });

  it('calibrate budgets beyond the steps: the API names budgets, the CLI --budget', async () => {
    await expect(calibrate({ model: MODEL_DIR, steps: 4, budgets: [6] })).rejects.toMatchObject({ code: 'BAD_INPUT', option: 'budgets' });
    const r = await cli('calibrate', '--model', MODEL_DIR, '--steps', '4', '--budget', '6');
    expect(r.code).toBe(2);
    expect(r.err).toContain('error: --budget 6 exceeds steps 4');
  });
});
