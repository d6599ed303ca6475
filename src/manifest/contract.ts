// The graph interface of shared/design/model.md, declared as data so the manifest, the ONNX
// sessions and the denoisers are all checked against one table.

import { manifestError } from './errors.ts';
import type { GraphEntry, GraphName, LabelDtype, PipelineGraphName, TensorSpec } from './types.ts';

/** The graphs of a class-conditional model (model.md); pipeline graphs are checked in pipeline.ts. */
export type ClassGraphName = Exclude<GraphName, PipelineGraphName>;

/**
 * Dimension symbols: B = batch (dynamic), C/H/W = latent, N/D = hidden tokens/dim,
 * K = number of classes, F = free (classifier feature width). 'label' = conditioning.labelDtype.
 */
type DimSymbol = 'B' | 'C' | 'H' | 'W' | 'N' | 'D' | 'K' | 'F';
interface IoContract {
  dtype: 'float32' | 'label';
  shape: readonly DimSymbol[];
}
interface GraphContract {
  inputs: Readonly<Record<string, IoContract>>;
  outputs: Readonly<Record<string, IoContract>>;
}

const f32 = (...shape: DimSymbol[]): IoContract => ({ dtype: 'float32', shape });
const image = f32('B', 'C', 'H', 'W');
const tokens = f32('B', 'N', 'D');

export const GRAPH_CONTRACT: Readonly<Record<ClassGraphName, GraphContract>> = {
  embed: {
    inputs: { x: image, t: f32('B'), y: { dtype: 'label', shape: ['B'] } },
    outputs: { h: tokens, c: f32('B', 'D'), mod0: tokens },
  },
  blocks: { inputs: { h: tokens, c: f32('B', 'D') }, outputs: { z: tokens } },
  head: { inputs: { z: tokens, c: f32('B', 'D') }, outputs: { v: image } },
  model: {
    inputs: { x: image, t: f32('B'), y: { dtype: 'label', shape: ['B'] } },
    outputs: { v: image },
  },
  classifier: { inputs: { image }, outputs: { logits: f32('B', 'K'), features: f32('B', 'F') } },
};

/** Concrete sizes the symbols resolve to for one manifest. */
export interface ContractSizes {
  C: number;
  H: number;
  W: number;
  N: number;
  D: number;
  K: number;
  labelDtype: LabelDtype;
}

const EXPORT_HINT =
  'The graphs do not follow the interface in shared/design/model.md; re-export them with tools/export.py.';

function dimMatches(symbol: DimSymbol, dim: number | string, sizes: ContractSizes): boolean {
  if (symbol === 'B') return typeof dim === 'string' || (Number.isInteger(dim) && dim > 0);
  if (symbol === 'F') return typeof dim === 'number' && Number.isInteger(dim) && dim > 0;
  return dim === sizes[symbol];
}

function expectedShape(io: IoContract, sizes: ContractSizes): string {
  return `[${io.shape.map((s) => (s === 'B' || s === 'F' ? s : String(sizes[s]))).join(', ')}]`;
}

function checkSpec(where: string, io: IoContract, spec: TensorSpec, sizes: ContractSizes): void {
  const dtype = io.dtype === 'label' ? sizes.labelDtype : io.dtype;
  if (spec.dtype !== dtype) {
    throw manifestError('GRAPH_SPEC_MISMATCH', `${where}: dtype is ${spec.dtype}, expected ${dtype}`, EXPORT_HINT);
  }
  const ok = spec.shape.length === io.shape.length && io.shape.every((s, k) => dimMatches(s, spec.shape[k]!, sizes));
  if (!ok) {
    const got = JSON.stringify(spec.shape);
    throw manifestError(
      'GRAPH_SPEC_MISMATCH',
      `${where}: shape is ${got}, expected ${expectedShape(io, sizes)}`,
      EXPORT_HINT,
    );
  }
}

/** Checks one graph's declared inputs/outputs against the contract (names, dtypes, shapes). */
export function checkGraphContract(name: ClassGraphName, entry: GraphEntry, sizes: ContractSizes): void {
  const contract = GRAPH_CONTRACT[name];
  for (const side of ['inputs', 'outputs'] as const) {
    for (const [io, spec] of Object.entries(contract[side])) {
      const declared = entry[side][io];
      const where = `graphs.${name}.${side}.${io}`;
      if (!declared) {
        throw manifestError(
          'GRAPH_IO_MISSING',
          `manifest.json: ${name} graph declares no ${side.slice(0, -1)} named "${io}"`,
          EXPORT_HINT,
        );
      }
      checkSpec(where, spec, declared, sizes);
    }
  }
}
