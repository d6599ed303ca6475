// Where the transformer block stack is in a single-graph export. PyTorch's ONNX exporter
// (dynamo=False) names every node after the module that made it ("/transformer_blocks.3/attn1/
// MatMul"), so the stack is the set of nodes under `<stack>.<N>/` for the usual stack names
// (diffusers, DiT, PixArt, SD3, Flux, Wan). Without such names, the caller names the tensor that
// enters the stack and the one that leaves it (--blocks-input / --blocks-output).

import { ImportError } from './errors.ts';
import type { GraphIndex } from './onnx-graph.ts';

/** Module-list names of DiT block stacks, as the published implementations (and diffusers) use them. */
export const STACK_NAMES = [
  'transformer_blocks', 'single_transformer_blocks', 'joint_transformer_blocks', 'blocks', 'joint_blocks',
  'double_blocks', 'single_blocks', 'double_stream_blocks', 'single_stream_blocks',
] as const;

const SCOPE = new RegExp(`(?:^|/)((?:[^/]*/)*?)(${STACK_NAMES.join('|')})\\.(\\d+)(?=/|$)`);

/** Whether a node's name puts it inside a block of a stack (`…/transformer_blocks.3/…`). */
export const inStackScope = (name: string): boolean => SCOPE.test(name);

export interface StackGroup {
  /** Module path of the list, e.g. "/transformer_blocks" or "/transformer/single_transformer_blocks". */
  path: string;
  /** Number of blocks (indices 0 … depth−1). */
  depth: number;
  nodes: number[];
}

/** The block groups the node names show, in the order their first node appears. */
export function stackGroups(ix: GraphIndex): StackGroup[] {
  const groups = new Map<string, { indices: Set<number>; nodes: number[] }>();
  ix.nodes.forEach((n, k) => {
    const m = SCOPE.exec(n.name ?? '');
    if (!m) return;
    const path = `/${m[1] ?? ''}${m[2]}`.replace(/\/+/g, '/');
    const g = groups.get(path) ?? { indices: new Set<number>(), nodes: [] };
    g.indices.add(Number(m[3]));
    g.nodes.push(k);
    groups.set(path, g);
  });
  return [...groups.entries()].map(([path, g]) => ({ path, depth: Math.max(...g.indices) + 1, nodes: g.nodes }));
}

/** Descendants (forward) or ancestors (backward) of a set of nodes, the set included. */
export function closure(ix: GraphIndex, start: Iterable<number>, dir: 'down' | 'up'): Set<number> {
  const seen = new Set<number>(start);
  const stack = [...seen];
  while (stack.length > 0) {
    const k = stack.pop()!;
    const n = ix.nodes[k]!;
    const next: number[] = [];
    if (dir === 'down') {
      for (const o of n.output ?? []) next.push(...(ix.consumers.get(o) ?? []));
    } else {
      for (const i of n.input ?? []) {
        const p = ix.producer.get(i);
        if (p !== undefined) next.push(p);
      }
    }
    for (const j of next) {
      if (!seen.has(j)) {
        seen.add(j);
        stack.push(j);
      }
    }
  }
  return seen;
}

export interface Region {
  /** Nodes of the block stack. */
  nodes: Set<number>;
  /** How it was found ("names: /transformer_blocks × 3" or "flags"). */
  how: string;
  groups: StackGroup[];
}

/** The stack from node names: the named blocks and whatever runs between them (Flux's concat of streams). */
export function regionFromNames(ix: GraphIndex): Region | null {
  const all = stackGroups(ix);
  if (all.length === 0) return null;
  const blockNodes = all.flatMap((g) => g.nodes);
  const down = closure(ix, blockNodes, 'down');
  const up = closure(ix, blockNodes, 'up');
  const nodes = new Set<number>(blockNodes);
  for (const k of down) if (up.has(k)) nodes.add(k);
  return { nodes, how: `node names: ${all.map((g) => `${g.path} × ${g.depth}`).join(', ')}`, groups: all };
}

/**
 * The stack between two named tensors: what depends on `input` and feeds `output`, plus the
 * per-block work on the side inputs that nothing else reads (adaLN modulation of each block),
 * stopping at nodes that read a graph input directly.
 */
export function regionFromTensors(ix: GraphIndex, input: string, output: string): Region {
  for (const [flag, name] of [['--blocks-input', input], ['--blocks-output', output]] as const) {
    if (!ix.producer.has(name) && !ix.inputs.has(name)) {
      throw new ImportError('IMPORT_TENSOR_UNKNOWN', `${flag} ${name}: the graph has no tensor of that name`,
        'Pass a tensor name the graph has (run the importer without the flags to list candidates).');
    }
  }
  const from = ix.consumers.get(input) ?? [];
  const to = ix.producer.get(output);
  if (to === undefined || from.length === 0) {
    throw new ImportError('IMPORT_TENSOR_UNKNOWN', `${input} → ${output} is not a path through the graph`,
      'Name the tensor entering the first block (--blocks-input) and the one leaving the last (--blocks-output).');
  }
  const down = closure(ix, from, 'down');
  const up = closure(ix, [to], 'up');
  const nodes = new Set<number>();
  for (const k of down) if (up.has(k)) nodes.add(k);
  if (!nodes.has(to)) {
    throw new ImportError('IMPORT_TENSOR_UNKNOWN', `${output} does not depend on ${input}`,
      'Swap the flags, or pick tensors on the residual stream (the stack\'s input and output have the same shape).');
  }
  const beforeInput = ix.producer.has(input) ? closure(ix, [ix.producer.get(input)!], 'up') : new Set<number>();
  // Absorb side work only the stack reads (reverse graph order: consumers are decided first).
  for (let k = ix.nodes.length - 1; k >= 0; k--) {
    if (nodes.has(k) || beforeInput.has(k) || !up.has(k)) continue;
    const n = ix.nodes[k]!;
    if ((n.input ?? []).some((i) => ix.inputs.has(i))) continue;
    const outs = (n.output ?? []).filter((o) => o);
    const readers = outs.flatMap((o) => ix.consumers.get(o) ?? []);
    if (readers.length > 0 && readers.every((r) => nodes.has(r)) && !outs.some((o) => ix.outputs.includes(o))) nodes.add(k);
  }
  return { nodes, how: `flags: ${input} → ${output}`, groups: [] };
}

/** Tensors crossing into (inputs) and out of (outputs) a region; weights and constants left out. */
export function regionBoundary(ix: GraphIndex, region: Set<number>): { inputs: string[]; outputs: string[] } {
  // readers that feed no graph output (dead after a rewrite, e.g. a Shape whose use became a constant) do not count
  const live = closure(ix, ix.outputs.map((o) => ix.producer.get(o)).filter((k): k is number => k !== undefined), 'up');
  const inputs: string[] = [];
  const outputs: string[] = [];
  for (const k of [...region].sort((a, b) => a - b)) {
    const n = ix.nodes[k]!;
    for (const i of n.input ?? []) {
      if (!i || ix.constant.has(i) || inputs.includes(i)) continue;
      const p = ix.producer.get(i);
      if (p === undefined || !region.has(p)) inputs.push(i);
    }
    for (const o of n.output ?? []) {
      if (!o) continue;
      const readers = ix.consumers.get(o) ?? [];
      if (ix.outputs.includes(o) || readers.some((r) => !region.has(r) && live.has(r))) outputs.push(o);
    }
  }
  return { inputs, outputs };
}
