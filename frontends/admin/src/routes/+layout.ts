// A static single-page app: everything renders in the browser, the gateway serves index.html.
export const ssr = false;
export const prerender = false;
export const trailingSlash = 'never';
