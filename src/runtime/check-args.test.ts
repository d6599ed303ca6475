// The RuntimeApi's argument checks: every wrong argument is a typed RuntimeError naming it;
// documented no-ops stay no-ops; what the element, demo and bench send passes.

import { describe, expect, it } from 'vitest';
import { checkGenerateRequest, checkJobId, checkLoadOptions, checkManifestUrl, checkWasmThreads } from './check-args.ts';

const codeOf = (f: () => unknown): string => {
  try {
    f();
    return 'OK';
  } catch (e) {
    expect((e as { hint?: string }).hint?.length).toBeGreaterThan(5);
    return (e as { code: string }).code;
  }
};

describe('checkManifestUrl', () => {
  it('takes http(s) and page-relative URLs, refuses other schemes and non-strings', () => {
    expect(checkManifestUrl('models/m/manifest.json', 'https://x.test/app/')).toBe('https://x.test/app/models/m/manifest.json');
    for (const bad of [undefined, 42, '', '  ', 'data:application/json,{}', 'javascript:alert(1)', 'file:///etc/passwd']) {
      expect(codeOf(() => checkManifestUrl(bad, 'https://x.test/'))).toBe('BAD_INPUT');
    }
  });
});

describe('checkWasmThreads', () => {
  it('passes 1–16 and leaving it out; anything else is BAD_INPUT with a hint', () => {
    expect(checkWasmThreads(undefined)).toBeUndefined();
    expect(checkWasmThreads(1)).toBe(1);
    expect(checkWasmThreads(16)).toBe(16);
    for (const v of [0, 17, 1.5, '2', null, NaN]) {
      expect(() => checkWasmThreads(v)).toThrow(expect.objectContaining({ code: 'BAD_INPUT', hint: expect.stringContaining('1 to 16') }));
    }
  });
});

describe('checkLoadOptions', () => {
  it('accepts the documented options and rejects typos, wrong types and unknown values', () => {
    expect(checkLoadOptions(undefined)).toEqual({});
    expect(codeOf(() => checkLoadOptions({ provider: 'auto', graphs: 'single', cache: false }))).toBe('OK');
    expect(codeOf(() => checkLoadOptions({ chunkBytes: 65536 }))).toBe('OK');
    expect(codeOf(() => checkLoadOptions({ chunkBytes: 64 * 2 ** 20 }))).toBe('OK');
    for (const bad of ['wasm', [1], { provider: 'cuda' }, { graphs: 'double' }, { cache: 'yes' }, { provder: 'wasm' },
      { chunkBytes: 1000 }, { chunkBytes: 2 ** 27 }, { chunkBytes: 1.5e5 + 0.5 }, { chunkBytes: '8MB' }]) {
      expect(codeOf(() => checkLoadOptions(bad))).toBe('BAD_INPUT');
    }
  });
});

describe('checkGenerateRequest', () => {
  it('accepts a full request of every documented field', () => {
    const req = { jobId: 'a', label: 3, seed: 0, steps: 8, guidance: 3, previewEvery: 2, timeMode: 'nominal',
      policy: { kind: 'ertacache', budget: 5, space: 'hidden' } };
    expect(checkGenerateRequest(req)).toBe(req);
  });

  it('types each field', () => {
    const cases: [unknown, string][] = [
      [null, 'BAD_INPUT'], ['3', 'BAD_INPUT'], [{}, 'BAD_INPUT'], [{ label: 1 }, 'BAD_INPUT'], [{ prompt: 3, seed: 1 }, 'BAD_INPUT'],
      [{ label: 1.5, seed: 1 }, 'BAD_INPUT'], [{ label: 1, seed: 2 ** 32 }, 'BAD_INPUT'],
      [{ label: 1, seed: 1, steps: 0 }, 'BAD_INPUT'], [{ label: 1, seed: 1, guidance: Infinity }, 'BAD_INPUT'],
      [{ label: 1, seed: 1, policy: 'ertacache' }, 'BAD_INPUT'], [{ label: 1, seed: 1, policy: { kind: 'fast' } }, 'UNKNOWN_POLICY'],
      [{ label: 1, seed: 1, steps: 4, policy: { kind: 'uniform', budget: 5 } }, 'BAD_INPUT'],
      [{ label: 1, seed: 1, timeMode: 'fast' }, 'BAD_INPUT'], [{ label: 1, seed: 1, lable: 2 }, 'BAD_INPUT'],
    ];
    for (const [req, code] of cases) expect(codeOf(() => checkGenerateRequest(req)), JSON.stringify(req)).toBe(code);
  });
});

describe('checkJobId', () => {
  it('treats undefined and null as "no job" (a no-op) and rejects non-strings', () => {
    expect(checkJobId(undefined)).toBeNull();
    expect(checkJobId(null)).toBeNull();
    expect(checkJobId('job-1')).toBe('job-1');
    expect(codeOf(() => checkJobId(42))).toBe('BAD_INPUT');
  });
});
