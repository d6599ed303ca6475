// What a browser tab can hold: every count and size a manifest or plan declares is bounded by
// these, so model data can never make the runtime (or a page's UI) allocate or iterate without
// bound. Generous for real models (ImageNet DiT-XL/2 fits), absurd values are rejected at load.

export const LIMITS = {
  /** conditioning.classes: ImageNet has 1000; a label picker must stay small (see the element). */
  classes: 100_000,
  /** latent.channels / height / width, and their product (elements of one latent, float32). */
  latentChannels: 64,
  latentSide: 4096,
  /** latent.frames of a video model (Wan: 21 latent frames for 81 video frames). */
  latentFrames: 1024,
  latentElements: 16 * 2 ** 20,
  /** hidden.tokens / dim, and tokens × dim. */
  hiddenTokens: 65_536,
  hiddenDim: 16_384,
  hiddenElements: 64 * 2 ** 20,
  /** One graph file, and all graph files together (bytes; wasm32 ORT addresses 4 GiB). */
  graphBytes: 2 ** 31,
  totalGraphBytes: 2 ** 32,
  /** A dimension a graph declares, and how many inputs/outputs/dims a graph may declare. */
  dim: 2 ** 24,
  ioPerGraph: 32,
  rank: 8,
  /** Sampling steps (the runtime's generate() accepts the same range). */
  steps: 1000,
  /** Entries in the manifest's plans list. */
  plans: 1000,
  /** manifest.json or a plan file, in bytes. Real ones are a few kB. */
  jsonBytes: 4 * 2 ** 20,
  /** Strings: names, file references. */
  name: 200,
  fileRef: 1024,
  /** scheduler.shift and defaultGuidance: plausible ranges. */
  shift: 100,
  guidance: 100,
} as const;
