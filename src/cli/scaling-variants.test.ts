// The variant cache: an export whose manifest is present is reused without Python; without
// Python the error names the apt packages and leaves no half-written directory behind.

import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultPython, prepareVariant, PYTHON_HINT, skipMessage, variantKey, VariantExportError } from './scaling-variants.ts';

const SHAPE = { dim: 128, depth: 6, heads: 4, patch: 4, size: 28 };
const NO_PYTHON = '/nonexistent/python3';
let dir = '';
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('variantKey and defaultPython', () => {
  it('names a directory by every exported hyper-parameter', () => {
    expect(variantKey(SHAPE)).toBe('dit-d128-l6-h4-p4-s28');
    expect(variantKey({ ...SHAPE, patch: 2 })).not.toBe(variantKey(SHAPE));
  });

  it('takes PYTHON from the environment, else Debian’s python3', () => {
    expect(defaultPython({ PYTHON: '/opt/py/bin/python' })).toBe('/opt/py/bin/python');
    expect(defaultPython({})).toBe('/usr/bin/python3');
    expect(defaultPython({ PYTHON: '' })).toBe('/usr/bin/python3');
  });
});

describe('prepareVariant', () => {
  it('reuses an export whose manifest.json is present, without running Python', async () => {
    dir = await mkdtemp(join(tmpdir(), 'erta-variants-'));
    const target = join(dir, variantKey(SHAPE));
    await mkdir(target);
    await writeFile(join(target, 'manifest.json'), '{}');
    expect(await prepareVariant(SHAPE, { workDir: dir, python: NO_PYTHON }, () => {})).toEqual({ dir: target, exportMs: null });
  });

  it('without Python: a VariantExportError naming the interpreter, and no partial directory left', async () => {
    dir = await mkdtemp(join(tmpdir(), 'erta-variants-'));
    const err = await prepareVariant(SHAPE, { workDir: dir, python: NO_PYTHON }, () => {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VariantExportError);
    expect((err as Error).message).toContain(`no Python at ${NO_PYTHON}`);
    expect(await readdir(dir)).toEqual([]);
    const msg = skipMessage(err as VariantExportError, NO_PYTHON);
    expect(msg).toContain(PYTHON_HINT);
    expect(msg).toContain('python3-torch python3-onnx libopenblas0-pthread');
  });
});
