import { createReadStream, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defaultClientConditions, defineConfig, type BuildEnvironmentOptions, type Plugin } from 'vite';
import { ORT_ALL_FILES } from './src/backend/ort-files.ts';

// ONNX Runtime Web loads its .wasm/.mjs at run time from env.wasm.wasmPaths. Mixing versions
// fails at init and a CDN is not allowed (offline, reproducible), so the project serves the
// exact files of the installed package at /ort/ — from node_modules in dev, copied into the
// build otherwise. src/backend/web.ts imports 'onnxruntime-web/jspi' or 'onnxruntime-web/webgpu'
// (native WebGPU EP + WASM; the "jspi" and "asyncify" binaries, src/backend/ort-files.ts); the
// 'onnxruntime-web-use-extern-wasm' condition picks ORT's builds that load them from
// env.wasm.wasmPaths instead of inlining/bundling a second copy.
const ORT_DIST = fileURLToPath(new URL('./node_modules/onnxruntime-web/dist/', import.meta.url));
const ORT_FILES: readonly string[] = ORT_ALL_FILES;
const ORT_PREFIX = '/ort/';

// Cross-origin isolation (COOP/COEP) enables SharedArrayBuffer, hence WASM threads.
// 'require-corp' is fine because every resource is same-origin.
const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

function contentType(file: string): string {
  return file.endsWith('.wasm') ? 'application/wasm' : 'text/javascript';
}

function serveOrtFiles(): Plugin {
  return {
    name: 'erta:serve-ort-files',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const path = (req.url ?? '').split('?')[0] ?? '';
        const file = path.startsWith(ORT_PREFIX) ? path.slice(ORT_PREFIX.length) : '';
        if (!ORT_FILES.includes(file)) return next();
        res.setHeader('Content-Type', contentType(file));
        res.setHeader('Content-Length', statSync(ORT_DIST + file).size);
        for (const [k, v] of Object.entries(ISOLATION_HEADERS)) res.setHeader(k, v);
        createReadStream(ORT_DIST + file).pipe(res);
      });
    },
    generateBundle() {
      for (const file of ORT_FILES) {
        this.emitFile({ type: 'asset', fileName: ORT_PREFIX.slice(1) + file, source: readFileSync(ORT_DIST + file) });
      }
    },
  };
}

/**
 * The package build: src/client/worker-files.ts (this checkout's worker and ORT locations) is
 * replaced by src/client/package-files.ts, whose `new URL('./worker.js' | './ort/…', import.meta.url)`
 * carry a vite-ignore mark, so this build leaves them alone; the marks are then stripped from the
 * output, so a consumer's bundler sees the plain patterns and copies the worker and ORT's files
 * (a plain static server needs nothing: they sit beside the module). The build fails if the
 * patterns did not come through.
 */
function packageFiles(): Plugin {
  const checkout = fileURLToPath(new URL('./src/client/worker-files.ts', import.meta.url));
  const packaged = fileURLToPath(new URL('./src/client/package-files.ts', import.meta.url));
  const expected = [/new Worker\(new URL\(["']\.\/worker\.js["'], import\.meta\.url\)/,
    ...ORT_FILES.map((f) => new RegExp(`new URL\\(["']\\./ort/${f.replace(/\./g, '\\.')}["'], import\\.meta\\.url\\)`))];
  return {
    name: 'erta:package-files',
    enforce: 'pre',
    async resolveId(source, importer, options) {
      if (importer === undefined || !source.endsWith('worker-files.ts')) return null;
      const r = await this.resolve(source, importer, { ...options, skipSelf: true });
      return r?.id === checkout ? packaged : null;
    },
    renderChunk(code) {
      // ORT's lookup of its own script (unused: no proxy worker) is marked instead, so that a
      // consumer's Vite does not warn that it cannot find the file.
      return code.replace(/new URL\(\s*\/\*\s*@vite-ignore\s*\*\/\s*/g, 'new URL(')
        .replace(/new URL\(("ort\.[\w.]+\.mjs", import\.meta\.url\))/g, 'new URL(/* @vite-ignore */ $1');
    },
    generateBundle(_options, bundle) {
      const code = Object.values(bundle).map((c) => (c.type === 'chunk' ? c.code : '')).join('\n');
      const missing = expected.filter((re) => !re.test(code));
      if (missing.length > 0) this.error(`the package build lost the worker/ORT URL patterns: ${missing.join(', ')}`);
    },
  };
}

// `vite build` makes the demo site in dist/; `vite build --mode element` adds a self-contained
// dist/erta-diffusion.js (worker in dist/assets/, ORT in dist/ort/). base './' keeps every URL
// relative, so the folder works from any static server, under a sub-path too.
// The package (npm run build:lib → lib/): `--mode lib` builds the page API (index.js), the
// element (element.js) and the worker (worker.js) with every dependency bundled, ORT's files in
// lib/ort/; `--mode node` builds erta-diffusion/node (node.js, only onnxruntime-node left external).
const BUILDS: Record<string, BuildEnvironmentOptions> = {
  element: {
    target: 'es2022', emptyOutDir: false, copyPublicDir: false,
    lib: { entry: 'src/element/define.ts', formats: ['es'], fileName: () => 'erta-diffusion.js' },
  },
  lib: {
    target: 'es2022', outDir: 'lib', emptyOutDir: true, copyPublicDir: false,
    lib: { entry: { index: 'src/client/index.ts', element: 'src/element/define.ts', worker: 'workers/diffusion.worker.ts' }, formats: ['es'] },
    rollupOptions: { output: { entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js' } },
  },
  node: {
    target: 'node20', outDir: 'lib', emptyOutDir: false, copyPublicDir: false, ssr: 'src/node/index.ts',
    rollupOptions: { output: { entryFileNames: 'node.js', chunkFileNames: 'node-[name]-[hash].js' } },
  },
};

export default defineConfig(({ mode }) => ({
  base: './',
  plugins: mode === 'node' ? [] : mode === 'lib' ? [serveOrtFiles(), packageFiles()] : [serveOrtFiles()],
  // 'mpa': an unknown URL is a 404, not index.html — a wrong model URL must fail as such.
  appType: 'mpa',
  resolve: { conditions: ['onnxruntime-web-use-extern-wasm', ...defaultClientConditions] },
  // ERTA_E2E=1 (playwright.config.ts): no HMR, so edits made while tests run cannot reload a page
  // in the middle of a generation.
  server: { headers: ISOLATION_HEADERS, port: 5173, strictPort: true, hmr: !process.env.ERTA_E2E },
  preview: { headers: ISOLATION_HEADERS, port: 4173, strictPort: true },
  worker: { format: 'es' },
  // Pre-bundling would rewrite ORT's import.meta.url-relative lookups; keep it as shipped. The
  // worker's other dependencies are listed so that discovering them cannot reload a test page.
  optimizeDeps: { exclude: ['onnxruntime-web'], include: ['comlink', 'idb-keyval'], entries: ['e2e/**/*.html', 'src/bench/browser/*.html'] },
  build: BUILDS[mode] ?? { target: 'es2022' },
  // erta-diffusion/node bundles its pure-JS dependencies (the package has no runtime
  // dependencies); only the native onnxruntime-node, a peer dependency, is imported at run time.
  ...(mode === 'node' ? { ssr: { noExternal: true, external: ['onnxruntime-node'] } } : {}),
}));
