// The element under a strict Content-Security-Policy: the exact policy the README documents is
// sent on every response (page, element bundle, worker, ORT files, model files, 404s). The
// element must keep its look (constructable stylesheets: no inline <style>), report no
// violation, and generate the reference image. Without 'wasm-unsafe-eval' it must say so
// (WASM_BLOCKED, naming the directive), not blame the ORT deployment.

import { readFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { CSP_FIXTURE, generate, serveDist, setAttrs } from './fixtures/element-page.ts';
import { nodeReference, expect, MODEL_NAME, test } from './fixtures.ts';

/** The policy line of the README's "Content Security Policy" section, exactly as documented. */
function readmePolicy(): string {
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.split(/^## Content Security Policy$/m)[1] ?? '';
  const line = section.split('\n').find((l) => l.startsWith('Content-Security-Policy: '));
  if (!line) throw new Error('README.md has no "Content-Security-Policy: …" line under "## Content Security Policy"');
  return line.slice('Content-Security-Policy: '.length).trim();
}

async function open(page: Page, url: string): Promise<string[]> {
  const console: string[] = [];
  page.on('console', (m) => { if (/Content.Security.Policy|Refused to/i.test(m.text())) console.push(m.text()); });
  await page.goto(`${url}${CSP_FIXTURE}`);
  await page.waitForFunction(() => customElements.get('erta-diffusion') !== undefined);
  await setAttrs(page, { model: `models/${MODEL_NAME}/manifest.json` });
  return console;
}

test('under the README\'s policy the element is styled, violation-free, and generates the reference image', async ({ page }) => {
  const policy = readmePolicy();
  expect(policy).toContain("'wasm-unsafe-eval'");
  expect(policy).not.toContain("'unsafe-inline'");
  expect(policy).not.toContain("'unsafe-eval'");
  const server = await serveDist({ headers: { 'Content-Security-Policy': policy } });
  try {
    const messages = await open(page, server.url);
    const look = await page.evaluate(() => {
      const el = document.getElementById('digit')!;
      const root = el.shadowRoot!;
      const button = root.querySelector('button')!;
      return {
        sheets: root.adoptedStyleSheets.length,
        inlineStyles: root.querySelectorAll('style').length,
        hostDisplay: getComputedStyle(el).display,
        buttonBackground: getComputedStyle(button).backgroundColor,
        frameRadius: getComputedStyle(root.querySelector('.frame')!).borderTopLeftRadius,
      };
    });
    expect(look).toEqual({ sheets: 1, inlineStyles: 0, hostDisplay: 'inline-block', buttonBackground: 'rgb(37, 99, 235)', frameRadius: '10px' });

    const r = await generate(page);
    if (!r.ok) throw new Error(`expected an image, got ${r.code}: ${r.message} (hint: ${r.hint})`);
    const reference = await nodeReference({ label: 3, seed: 5, steps: 6, guidance: 3, policy: 'none' });
    let diff = 0;
    for (let k = 0; k < reference.length; k++) diff = Math.max(diff, Math.abs(r.image[k]! - reference[k]!));
    expect(diff).toBeLessThan(1e-3);
    expect(await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations)).toEqual([]);
    expect(messages).toEqual([]);
  } finally {
    await server.close();
  }
});

test('without \'wasm-unsafe-eval\' the element reports WASM_BLOCKED and names the directive', async ({ page }) => {
  const policy = readmePolicy().replace(" 'wasm-unsafe-eval'", '');
  const server = await serveDist({ headers: { 'Content-Security-Policy': policy } });
  try {
    await open(page, server.url);
    const r = await generate(page);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.code).toBe('WASM_BLOCKED');
    expect(r.hint).toContain("'wasm-unsafe-eval'");
  } finally {
    await server.close();
  }
});
