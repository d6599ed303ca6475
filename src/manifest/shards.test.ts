// External-data shards in the manifest: parsed with the graph that names them, each checked like
// every other model file, bounded in size and count, and covered by the model hash.

import { describe, expect, it } from 'vitest';
import { DiffusionError } from '../core/errors.ts';
import { manifestFixture } from './fixture.ts';
import { modelHashOf, sha256Hex } from './hash.ts';
import { shardFile, SHARD_LIMITS } from './shards.ts';
import { parseManifest } from './validate.ts';

const shard = (path: string, c = 'e', bytes = 1024) => ({ path, sha256: c.repeat(64), bytes });

function withShards(list: unknown, file = 'blocks.onnx'): Record<string, any> {
  const j = manifestFixture();
  j['graphs'].blocks.file = file;
  j['graphs'].blocks.externalData = list;
  return j;
}

function codeOf(json: unknown): [string, string] {
  try {
    parseManifest(json, '/models/m');
  } catch (e) {
    expect(e).toBeInstanceOf(DiffusionError);
    return [(e as DiffusionError).code, (e as DiffusionError).message];
  }
  throw new Error('accepted');
}

describe('externalData in the manifest', () => {
  it('keeps the shards of a graph in order, and leaves self-contained graphs without the field', () => {
    const m = parseManifest(withShards([shard('blocks.weights.0.bin'), shard('w/blocks.weights.1.bin', 'f', 7)]), '/m');
    expect(m.graphs.blocks?.externalData).toEqual([shard('blocks.weights.0.bin'), shard('w/blocks.weights.1.bin', 'f', 7)]);
    expect(m.graphs.embed?.externalData).toBeUndefined();
    expect('externalData' in m.graphs.embed!).toBe(false);
  });

  it('resolves a shard beside the graph file that names it', () => {
    expect(shardFile('blocks.onnx', { path: 'w.bin' })).toBe('w.bin');
    expect(shardFile('transformer/blocks.onnx', { path: 'w.bin' })).toBe('transformer/w.bin');
  });

  it.each([
    ['a path leaving the folder', [shard('../x.bin')], 'MODEL_FILE_URL', /\.\./],
    ['an absolute path', [shard('/x.bin')], 'MODEL_FILE_URL', /absolute/],
    ['a URL', [shard('https://cdn.example.com/x.bin')], 'MODEL_FILE_URL', /outside|URL/],
    ['a bad sha256', [{ ...shard('x.bin'), sha256: 'zz' }], 'MANIFEST_FIELD_INVALID', /sha256/],
    ['a shard of 2 GiB', [shard('x.bin', 'e', 2 ** 31)], 'MANIFEST_FIELD_INVALID', /externalData\[0\]\.bytes/],
    ['a zero-byte shard', [shard('x.bin', 'e', 0)], 'MANIFEST_FIELD_INVALID', /bytes/],
    ['the same path twice', [shard('x.bin'), shard('x.bin')], 'MANIFEST_FIELD_INVALID', /externalData\[1\]\.path/],
    ['an empty list', [], 'MANIFEST_FIELD_INVALID', /externalData/],
    ['not a list', { path: 'x' }, 'MANIFEST_FIELD_INVALID', /externalData/],
    ['a missing path', [{ sha256: 'e'.repeat(64), bytes: 1 }], 'MANIFEST_FIELD_MISSING', /externalData\[0\]\.path/],
  ])('refuses %s', (_, list, code, message) => {
    const [c, m] = codeOf(withShards(list));
    expect(c).toBe(code);
    expect(m).toMatch(message);
  });

  it(`refuses more than ${SHARD_LIMITS.shards} shards, and shards that make the model larger than a tab can hold`, () => {
    const many = Array.from({ length: SHARD_LIMITS.shards + 1 }, (_, k) => shard(`w${k}.bin`));
    expect(codeOf(withShards(many))[1]).toMatch(/1 to 256 shards/);
    const huge = Array.from({ length: 3 }, (_, k) => shard(`w${k}.bin`, 'e', 2 ** 31 - 1));
    expect(codeOf(withShards(huge))[1]).toMatch(/with externalData/);
  });

  it('includes the shards in the model hash (graph sha256, then its shards in order)', async () => {
    const j = withShards([shard('a.bin', 'e'), shard('b.bin', 'f')]);
    const plain = await modelHashOf(manifestFixture()['graphs']);
    const sharded = await modelHashOf(j['graphs']);
    expect(sharded).not.toBe(plain);
    // blocks with its two shards, then embed, head, model (names sorted)
    const joined = ['b', 'e', 'f', 'a', 'c', 'd'].map((c) => c.repeat(64)).join('');
    expect(sharded).toBe(await sha256Hex(new TextEncoder().encode(joined)));
    const swapped = withShards([shard('a.bin', 'f'), shard('b.bin', 'e')]);
    expect(await modelHashOf(swapped['graphs'])).not.toBe(sharded);
  });
});
