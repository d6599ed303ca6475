// Random-weight DiT variants for the scaling study (shared/design/evaluation.md "Scaling"),
// exported by the model tool (tools/export.py --random) into a git-ignored cache directory and
// reused while their manifest.json is present. Python and PyTorch are needed only for a variant
// that has not been exported yet; without them the study is skipped with a message, never failed.

import { execFile } from 'node:child_process';
import { access, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The DiT hyper-parameters that tools/export.py --random takes. */
export interface DiTShape {
  dim: number;
  depth: number;
  heads: number;
  patch: number;
  size: number; // image side in pixels; tokens = (size / patch)²
}

export interface VariantStore {
  /** Where exports are cached, one directory per shape. Default `bench/.variants` (git-ignored). */
  workDir: string;
  /** Python with PyTorch. Default: env PYTHON, else /usr/bin/python3 (see defaultPython). */
  python: string;
}

export interface PreparedVariant {
  dir: string;
  exportMs: number | null; // null: an earlier export was reused
}

export const DEFAULT_VARIANT_DIR = 'bench/.variants';
export const PYTHON_HINT = 'apt-get install -y python3-torch python3-onnx libopenblas0-pthread';
const EXPORT_SCRIPT = fileURLToPath(new URL('../../tools/export.py', import.meta.url));

export const defaultPython = (env: Record<string, string | undefined> = process.env): string =>
  env['PYTHON'] || '/usr/bin/python3';

export const variantKey = (s: DiTShape): string => `dit-d${s.dim}-l${s.depth}-h${s.heads}-p${s.patch}-s${s.size}`;

/** Thrown when a variant cannot be exported (no Python, no PyTorch, export failed). */
export class VariantExportError extends Error {
  constructor(readonly key: string, readonly reason: string) {
    super(`cannot export the random-weight DiT ${key}: ${reason}`);
    this.name = 'VariantExportError';
  }
}

/** The message a bench report shows instead of the scaling table. */
export function skipMessage(e: VariantExportError, python: string): string {
  return `${e.message}. The scaling study exports random-weight DiTs with tools/export.py, which needs `
    + `Python 3 with PyTorch and ONNX (${python}): ${PYTHON_HINT}, or set PYTHON to an interpreter that has them.`;
}

const exists = (path: string) => access(path).then(() => true, () => false);

function runExport(python: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(python, [EXPORT_SCRIPT, ...args], { maxBuffer: 16 << 20 }, (err, _stdout, stderr) => {
      if (!err) return resolve();
      const code = (err as NodeJS.ErrnoException).code;
      const last = stderr.trim().split('\n').filter(Boolean).at(-1);
      reject(new Error(code === 'ENOENT' ? `no Python at ${python}` : last ?? err.message));
    });
  });
}

/** The variant's directory, exporting it first when no manifest.json is there. */
export async function prepareVariant(shape: DiTShape, store: VariantStore, log: (m: string) => void): Promise<PreparedVariant> {
  const key = variantKey(shape);
  const dir = join(store.workDir, key);
  if (await exists(join(dir, 'manifest.json'))) return { dir, exportMs: null };
  // Export beside the target and rename: an interrupted export never looks like a finished one.
  const partial = `${dir}.partial-${process.pid}`;
  await rm(partial, { recursive: true, force: true });
  log(`scaling: exporting ${key} (tools/export.py --random)`);
  const t0 = performance.now();
  try {
    await runExport(store.python, ['--random', '--name', key, '--out', partial,
      '--dim', `${shape.dim}`, '--depth', `${shape.depth}`, '--heads', `${shape.heads}`,
      '--patch', `${shape.patch}`, '--size', `${shape.size}`]);
  } catch (e) {
    await rm(partial, { recursive: true, force: true });
    throw new VariantExportError(key, (e as Error).message);
  }
  await rm(dir, { recursive: true, force: true });
  await rename(partial, dir);
  return { dir, exportMs: performance.now() - t0 };
}
