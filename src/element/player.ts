// A video model's clip on the element's canvas: its frames looped at a frame rate, one
// requestAnimationFrame callback at a time (none in a hidden tab, none once stopped). A still
// image is a clip of one frame: drawn once, no loop.

import type { Frame } from '../runtime/api.ts';

/** Frames per second when the fps attribute is absent. */
export const DEFAULT_FPS = 8;

export class FramePlayer {
  readonly #canvas: HTMLCanvasElement;
  #images: ImageData[] = [];
  #fps = DEFAULT_FPS;
  #index = -1;
  #handle: number | null = null;
  /** performance.now() at which frame 0 of the current loop was (virtually) shown. */
  #origin = 0;

  constructor(canvas: HTMLCanvasElement) {
    this.#canvas = canvas;
  }

  /** Index of the frame on the canvas (−1 before the first). */
  get index(): number { return this.#index; }
  /** Frames of the clip on the canvas (1 for a still image, 0 before the first). */
  get length(): number { return this.#images.length; }
  /** True while a clip of several frames loops. */
  get playing(): boolean { return this.#handle !== null; }

  /** Shows frames[0], then loops through them at `fps` (0: stays on the first frame). Pixels are copied. */
  show(frames: readonly Frame[], fps: number): void {
    this.stop();
    this.#images = frames.map((f) => new ImageData(new Uint8ClampedArray(f.pixels), f.width, f.height));
    this.#fps = fps;
    this.#draw(0);
    this.#loop();
  }

  /** A new frame rate from the frame on the canvas on (0 stops on it). */
  setFps(fps: number): void {
    if (fps === this.#fps) return;
    this.stop();
    this.#fps = fps;
    this.#loop();
  }

  stop(): void {
    if (this.#handle !== null) cancelAnimationFrame(this.#handle);
    this.#handle = null;
  }

  #loop(): void {
    if (this.#images.length < 2 || !(this.#fps > 0)) return;
    const period = 1000 / this.#fps;
    this.#origin = performance.now() - Math.max(0, this.#index) * period;
    const tick = (now: number) => {
      const n = this.#images.length;
      const k = ((Math.floor((now - this.#origin) / period) % n) + n) % n; // rAF's time may precede the origin
      if (k !== this.#index) this.#draw(k);
      this.#handle = requestAnimationFrame(tick);
    };
    this.#handle = requestAnimationFrame(tick);
  }

  #draw(k: number): void {
    const image = this.#images[k];
    if (!image) return;
    if (this.#canvas.width !== image.width) this.#canvas.width = image.width;
    if (this.#canvas.height !== image.height) this.#canvas.height = image.height;
    this.#canvas.getContext('2d')?.putImageData(image, 0, 0);
    this.#index = k;
  }
}
