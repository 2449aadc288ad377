import { defineConfig } from 'vite';

/** The host-page loader: one framework-free IIFE, appended to the app's build folder. */
export default defineConfig({
  build: {
    outDir: 'build',
    emptyOutDir: false,
    target: 'es2020',
    lib: {
      entry: 'loader/loader.ts',
      name: 'ParleyLoader',
      formats: ['iife'],
      fileName: () => 'loader.js',
    },
  },
});
