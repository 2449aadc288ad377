import adapter from '@sveltejs/adapter-static';
import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

const gateway = process.env.PARLEY_GATEWAY ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [
    sveltekit({
      // A static SPA served by the gateway at /admin/; every route falls back to index.html.
      adapter: adapter({ pages: 'build', assets: 'build', fallback: 'index.html', strict: true }),
      paths: { base: '/admin', relative: false },
    }),
  ],
  // Kit's build-time analysis imports `cookie` 2 from its own node_modules; the root has express's
  // cookie 0.7, so bundle it rather than resolve it from this folder.
  ssr: { noExternal: ['cookie'] },
  server: {
    proxy: {
      '/api': { target: gateway, changeOrigin: true },
      '/ws': { target: gateway, ws: true, changeOrigin: true },
    },
  },
});
