import { defineConfig } from '@playwright/test';
import { CHROMIUM, chromiumArgs } from './e2e/browser.ts';
import type { Provider } from './e2e/fixtures.ts';

// Its own port, so a developer's `npm start` on 5173 is never mistaken for the test server;
// ERTA_E2E_PORT moves it (two checkouts testing side by side must not share a server).
const PORT = Number(process.env.ERTA_E2E_PORT ?? 5199);

// Browser tests in Debian's Chromium (never a downloaded browser): WebGPU runs on SwiftShader,
// a software adapter ~30× slower than WASM here, so WebGPU tests keep step counts small.
// Each spec file runs once per provider project unless it pins its own (see e2e/fixtures.ts).
export default defineConfig<{ provider: Provider }>({
  testDir: 'e2e',
  testMatch: '*.spec.ts',
  timeout: 240_000,
  expect: { timeout: 30_000 },
  fullyParallel: false,
  workers: 1, // one Chromium at a time: SwiftShader and ORT's threads already fill the cores
  retries: 0,
  reporter: process.env.CI ? [['list'], ['html', { open: 'never' }]] : 'list',
  use: {
    baseURL: `http://localhost:${PORT}`,
    browserName: 'chromium',
    launchOptions: { executablePath: CHROMIUM, args: chromiumArgs({ webgpu: true }) },
    trace: 'retain-on-failure',
  },
  projects: [
    { name: 'wasm', use: { provider: 'wasm' }, testIgnore: ['webgpu-ops.spec.ts'] },
    { name: 'webgpu', use: { provider: 'webgpu' }, testMatch: ['generate.spec.ts', 'cancel.spec.ts', 'webgpu-ops.spec.ts', 'memory.spec.ts', 'text-to-image.spec.ts', 'emoji.spec.ts', 'families.spec.ts', 'calibrate.spec.ts'] },
  ],
  webServer: {
    command: `npx vite --port ${PORT} --strictPort`,
    env: { ERTA_E2E: '1' },
    url: `http://localhost:${PORT}/e2e/harness.html`,
    reuseExistingServer: !process.env.CI,
    timeout: 60_000,
  },
});
