// A client-only SPA: the gateway serves the fallback page, nothing is prerendered or server-rendered.
export const ssr = false;
export const prerender = false;
