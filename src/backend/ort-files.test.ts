// Where ORT's files are looked for, and what the probe says when they are not there: against a
// real HTTP server that answers like the usual wrong deployments (404, an HTML fallback page,
// no HEAD support).

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseOrtBuild, hasJspi, ORT_ALL_FILES, ORT_BUILD_FILES, ORT_FILE_NAMES, ortFileUrls, probeOrtFiles } from './ort-files.ts';

describe('ortFileUrls', () => {
  it('a directory gives both file names in it, relative to the base; file URLs pass through', () => {
    expect(ortFileUrls('ort/', 'https://x.test/app/page.html')).toEqual({
      mjs: `https://x.test/app/ort/${ORT_FILE_NAMES.mjs}`, wasm: `https://x.test/app/ort/${ORT_FILE_NAMES.wasm}`,
    });
    expect(ortFileUrls('https://cdn.test/ort', undefined).wasm).toBe(`https://cdn.test/ort/${ORT_FILE_NAMES.wasm}`);
    expect(ortFileUrls({ mjs: '/a/x.mjs', wasm: '/b/y.wasm' }, 'https://x.test/p/')).toEqual({ mjs: 'https://x.test/a/x.mjs', wasm: 'https://x.test/b/y.wasm' });
  });
});

describe('the ORT build', () => {
  it('JSPI where the scope has WebAssembly.Suspending and the files include the JSPI pair; asyncify otherwise or when asked', () => {
    expect(hasJspi({ WebAssembly: { Suspending: function Suspending() {} } })).toBe(true);
    expect(hasJspi({ WebAssembly: {} })).toBe(false);
    expect(hasJspi({})).toBe(false);
    const pair = { mjs: '/a.mjs', wasm: '/a.wasm' };
    expect(chooseOrtBuild('ort/', 'auto', true)).toBe('jspi');
    expect(chooseOrtBuild('ort/', 'auto', false)).toBe('asyncify');
    expect(chooseOrtBuild('ort/', 'asyncify', true)).toBe('asyncify');
    expect(chooseOrtBuild(pair, 'auto', true)).toBe('asyncify'); // only the asyncify pair given
    expect(chooseOrtBuild({ ...pair, jspi: { mjs: '/j.mjs', wasm: '/j.wasm' } }, 'auto', true)).toBe('jspi');
  });

  it("a directory gives each build's files; explicit pairs give theirs, and no JSPI pair is an error", () => {
    expect(ortFileUrls('ort/', 'https://x.test/app/', 'jspi')).toEqual({
      mjs: `https://x.test/app/ort/${ORT_BUILD_FILES.jspi.mjs}`, wasm: `https://x.test/app/ort/${ORT_BUILD_FILES.jspi.wasm}`,
    });
    expect(ORT_BUILD_FILES.jspi.wasm).toBe('ort-wasm-simd-threaded.jspi.wasm');
    expect(ORT_FILE_NAMES).toBe(ORT_BUILD_FILES.asyncify);
    expect([...ORT_ALL_FILES].sort()).toEqual(['ort-wasm-simd-threaded.asyncify.mjs', 'ort-wasm-simd-threaded.asyncify.wasm',
      'ort-wasm-simd-threaded.jspi.mjs', 'ort-wasm-simd-threaded.jspi.wasm']);
    const both = { mjs: '/a.mjs', wasm: '/a.wasm', jspi: { mjs: '/j.mjs', wasm: '/j.wasm' } };
    expect(ortFileUrls(both, 'https://x.test/', 'jspi')).toEqual({ mjs: 'https://x.test/j.mjs', wasm: 'https://x.test/j.wasm' });
    expect(ortFileUrls(both, 'https://x.test/', 'asyncify')).toEqual({ mjs: 'https://x.test/a.mjs', wasm: 'https://x.test/a.wasm' });
    expect(() => ortFileUrls({ mjs: '/a.mjs', wasm: '/a.wasm' }, 'https://x.test/', 'jspi')).toThrow(/no JSPI build/);
  });
});

describe('probeOrtFiles', () => {
  let server: Server;
  let base = '';
  beforeAll(async () => {
    server = createServer((req, res) => {
      const path = req.url ?? '/';
      if (path.startsWith('/good/')) res.writeHead(200, { 'Content-Type': path.endsWith('.wasm') ? 'application/wasm' : 'text/javascript' });
      else if (path.startsWith('/spa/')) res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      else if (path.startsWith('/nohead/')) res.writeHead(405);
      else res.writeHead(404);
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('files that answer with the right types: nothing to report', async () => {
    expect(await probeOrtFiles(ortFileUrls(`${base}/good/`))).toBeNull();
  });

  it('a 404 names the URL and the status', async () => {
    expect(await probeOrtFiles(ortFileUrls(`${base}/missing/`))).toBe(`${base}/missing/${ORT_FILE_NAMES.mjs} answered HTTP 404`);
  });

  it('an HTML fallback page for a missing file is named as such', async () => {
    expect(await probeOrtFiles(ortFileUrls(`${base}/spa/`))).toBe(`${base}/spa/${ORT_FILE_NAMES.mjs} answered text/html, not ORT's JavaScript file`);
  });

  it('a server without HEAD cannot be judged: no false alarm', async () => {
    expect(await probeOrtFiles(ortFileUrls(`${base}/nohead/`))).toBeNull();
  });

  it('an unreachable host names the URL', async () => {
    const r = await probeOrtFiles(ortFileUrls('http://127.0.0.1:1/ort/'));
    expect(r).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:1/ort/${ORT_FILE_NAMES.mjs.replace(/\./g, '\\.')} could not be fetched`));
  });
});
