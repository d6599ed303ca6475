// The README's "Use it in your page" / "Use it from Node" code is the code the tarball consumers
// run (e2e/consumers/, e2e/package.spec.ts): each consumer file must appear in the README as a
// fenced block, verbatim. And the package's entry points name files the package build writes.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const README = readFileSync('README.md', 'utf8');

/** The contents of every fenced code block of a Markdown text. */
function fencedBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```[\w-]*\n([\s\S]*?)^```$/gm)].map((m) => m[1]!.replace(/\n$/, ''));
}

const section = (title: string): string => {
  const start = README.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`README has no "## ${title}" section`);
  const end = README.indexOf('\n## ', start + 1);
  return README.slice(start, end < 0 ? undefined : end);
};

describe('README quotes the tarball consumers', () => {
  it.each([
    ['Use it in your page', 'e2e/consumers/vite-app/src/main.ts'],
    ['Use it in your page', 'e2e/consumers/vite-app/index.html'],
    ['Use it in your page', 'e2e/consumers/vite-app/vite.config.ts'],
    ['Use it in your page', 'e2e/consumers/static/index.html'],
    ['Use it from Node', 'e2e/consumers/node/generate.mjs'],
  ])('"%s" holds %s verbatim', (title, file) => {
    const code = readFileSync(file, 'utf8').replace(/\n$/, '');
    expect(fencedBlocks(section(title))).toContain(code);
  });
});

describe('package.json', () => {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
    private?: boolean; version: string; exports: Record<string, string | Record<string, string>>;
    sideEffects: string[]; files: string[]; dependencies?: Record<string, string>; peerDependencies: Record<string, string>;
  };

  it('is publishable, semver, with no runtime dependencies and onnxruntime-node as a peer', () => {
    expect(pkg.private).toBeUndefined();
    expect(pkg.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(pkg.dependencies).toBeUndefined(); // everything the browser needs is bundled
    expect(Object.keys(pkg.peerDependencies)).toEqual(['onnxruntime-node']);
    expect(README).toContain(`\`${pkg.peerDependencies['onnxruntime-node']}\``);
  });

  it('lists the changelog entry of its version', () => {
    expect(readFileSync('CHANGELOG.md', 'utf8')).toContain(`## ${pkg.version}`);
  });

  it('exports the page API, the element, the worker and Node; only the element and the worker have side effects', () => {
    expect(Object.keys(pkg.exports)).toEqual(expect.arrayContaining(['.', './element', './worker', './node']));
    expect(pkg.sideEffects.sort()).toEqual(['./lib/element.js', './lib/worker.js']);
    const targets = Object.values(pkg.exports).flatMap((e) => (typeof e === 'string' ? [e] : Object.values(e)));
    for (const t of targets) expect(t === './package.json' || pkg.files.some((f) => t.startsWith(`./${f}/`)), t).toBe(true);
  });
});
