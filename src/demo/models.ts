// The models this site ships (public/models/…), offered by the demo's model picker. A page may
// point at any other manifest with ?model=URL; it is added to the picker as it is.

export interface ShippedModel {
  /** Manifest URL relative to the page (works under a sub-path). */
  url: string;
  name: string;
}

export const SHIPPED_MODELS: readonly ShippedModel[] = [
  { url: 'models/emoji-dit/manifest.json', name: 'Emoji — text-to-emoji DiT (prompts, 64×64, trained here)' },
  { url: 'models/mnist-dit/manifest.json', name: 'Digits — MNIST DiT (class labels, trained)' },
  { url: 'models/imported-wan-tiny/manifest.json', name: 'Video — tiny Wan-style DiT (prompts → a 4-frame clip; random weights, a test model)' },
];

/** Fill the picker with the shipped models (and `current` when it is another URL); select `current`. */
export function fillModelPicker(select: HTMLSelectElement, current: string, base: string): void {
  select.replaceChildren();
  const abs = (u: string) => new URL(u, base).href;
  for (const m of SHIPPED_MODELS) select.append(new Option(m.name, abs(m.url)));
  if (!SHIPPED_MODELS.some((m) => abs(m.url) === current)) select.append(new Option(current, current));
  select.value = current;
}
