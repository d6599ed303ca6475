import { createRuntimeClient, RuntimeError } from 'erta-diffusion';
import 'erta-diffusion/element'; // registers <erta-diffusion>

const out = document.querySelector('#out')!;
const api = createRuntimeClient();
try {
  const info = await api.load('models/mnist-dit/manifest.json', { provider: 'wasm' });
  const { frame, stats } = await api.generate({ label: 7, seed: 3, steps: 8, policy: { kind: 'ertacache', budget: 5 } });
  const canvas = document.querySelector<HTMLCanvasElement>('#seven')!;
  canvas.getContext('2d')!.putImageData(new ImageData(frame.pixels, frame.width, frame.height), 0, 0);
  out.textContent = JSON.stringify({ model: info.name, provider: info.provider.used, steps: stats.steps, computed: stats.computedSteps });
} catch (e) {
  out.textContent = e instanceof RuntimeError ? `${e.code}: ${e.message} (${e.hint})` : String(e);
}
