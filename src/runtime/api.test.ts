// RuntimeError survives Comlink: code and hint cross a real MessageChannel intact, and errors
// without a code still use Comlink's own handling.

import { expose, transferHandlers, wrap } from 'comlink';
import { describe, expect, it } from 'vitest';
import { DiffusionError } from '../core/errors.ts';
import { installRuntimeErrors, RuntimeError } from './api.ts';

describe('installRuntimeErrors', () => {
  it('keeps code and hint across Comlink, for RuntimeError and core DiffusionError alike', async () => {
    installRuntimeErrors(transferHandlers);
    installRuntimeErrors(transferHandlers); // idempotent: one wrapper, not two
    const { port1, port2 } = new MessageChannel();
    expose({
      busy() { throw new RuntimeError('BUSY', 'job j is running', 'cancel it first'); },
      plan() { throw new DiffusionError('PLAN_MISMATCH', 'plan for 50 steps', 'calibrate for 8'); },
      plain() { throw new TypeError('no code here'); },
    }, port1 as unknown as Parameters<typeof expose>[1]);
    const remote = wrap<{ busy(): void; plan(): void; plain(): void }>(port2 as unknown as Parameters<typeof wrap>[0]);

    const busy = await remote.busy().catch((e: unknown) => e);
    expect(busy).toBeInstanceOf(RuntimeError);
    expect(busy).toMatchObject({ code: 'BUSY', message: 'job j is running', hint: 'cancel it first' });
    await expect(remote.plan()).rejects.toMatchObject({ code: 'PLAN_MISMATCH', hint: 'calibrate for 8' });
    const plain = await remote.plain().catch((e: unknown) => e);
    expect(plain).not.toBeInstanceOf(RuntimeError);
    expect((plain as Error).message).toBe('no code here');
    port1.close();
    port2.close();
  });
});
