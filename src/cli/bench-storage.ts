// `npm run bench:storage -- [--mib 256] [--chunk-mib 8]`: how fast each chunk store takes and
// gives back model bytes in Debian's Chromium (OPFS vs IndexedDB), measured in a dedicated
// worker through the runtime's own stores (src/storage/chunk-store.ts). README "Large models".

import { parseArgs } from 'node:util';
import { chromium } from '@playwright/test';
import { createServer } from 'vite';
import { CHROMIUM, chromiumArgs } from '../../e2e/browser.ts';

const { values } = parseArgs({ args: process.argv.slice(2), options: { mib: { type: 'string' }, 'chunk-mib': { type: 'string' } } });
const server = await createServer({ configFile: 'vite.config.ts', logLevel: 'warn', server: { port: 5196, strictPort: false, hmr: false } });
await server.listen();
const browser = await chromium.launch({ executablePath: CHROMIUM, args: chromiumArgs({ webgpu: false }) });
try {
  const page = await browser.newPage();
  await page.goto(new URL('src/bench/browser/storage.html', server.resolvedUrls?.local[0] ?? 'http://localhost:5196/').href);
  await page.waitForFunction(() => 'measureStores' in globalThis);
  const result = await page.evaluate(([m, c]) => (globalThis as unknown as { measureStores(m: number, c: number): Promise<unknown> })
    .measureStores(m, c), [Number(values.mib ?? 256), Number(values['chunk-mib'] ?? 8)] as const);
  console.log(JSON.stringify(result));
} finally {
  await browser.close();
  await server.close();
}
