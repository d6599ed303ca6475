// How the tests start Chromium. Shared by playwright.config.ts and the specs that launch a
// browser of their own (e.g. one without WebGPU).

/** Debian's Chromium (apt-get install chromium); a test tool's own download cannot work here. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Quiet, offline-friendly flags; --no-sandbox because CI runs as root. */
const BASE_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

/** WebGPU on the SwiftShader software adapter. Without these flags Chromium on Linux has no adapter. */
const WEBGPU_ARGS = ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'];

export function chromiumArgs(options: { webgpu: boolean }): string[] {
  return options.webgpu ? [...BASE_ARGS, ...WEBGPU_ARGS] : [...BASE_ARGS];
}
