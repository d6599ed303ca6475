import { defineConfig } from 'vite';

export default defineConfig({
  base: './',
  // The package's public/ folder holds the shipped models (models/emoji-dit/, the element's default, and models/mnist-dit/); serve it as is.
  publicDir: 'node_modules/erta-diffusion/public',
});
