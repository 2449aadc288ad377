import adapter from '@sveltejs/adapter-static';
import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

const gateway = process.env.PARLEY_GATEWAY ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [
    sveltekit({
      // A static SPA served by the gateway at /widget/; every route falls back to index.html.
      adapter: adapter({ pages: 'build', assets: 'build', fallback: 'index.html', strict: true }),
      paths: { base: '/widget', relative: false },
    }),
  ],
  // The build analyses routes in Node; kit needs cookie 2, while the hoisted copy is express's 0.x.
  ssr: { noExternal: ['cookie'] },
  server: {
    proxy: {
      '/api': { target: gateway, changeOrigin: true },
      '/ws': { target: gateway, ws: true, changeOrigin: true },
    },
  },
});
