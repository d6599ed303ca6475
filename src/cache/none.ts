// No caching: every step computes. The reference every fidelity number is measured against.

import type { CachePolicy } from '../core/types.ts';
import { COMPUTE } from './policy.ts';

export function createNonePolicy(): CachePolicy {
  return {
    kind: 'none',
    needsIndicator: false,
    history: 0, // never reuses: the sampler forms no residual
    decide: () => COMPUTE,
    rectification: () => null,
    reset: () => {},
  };
}
