/**
 * The iframe's side of the postMessage link with the loader: posts only to the host origin the
 * loader named, and accepts only messages from the parent window at that origin that parse as
 * contracts' HostToWidget.
 */
import { HostToWidget, type WidgetToHost } from '@parley/contracts/embed';

export interface HostBridge {
  /** Null when the app runs on its own (opened directly, not embedded). */
  readonly hostOrigin: string | null;
  post(message: WidgetToHost): void;
  listen(handler: (message: HostToWidget) => void): () => void;
}

export function createHostBridge(): HostBridge {
  const declared = new URL(location.href).searchParams.get('host');
  let hostOrigin: string | null = null;
  if (declared && window.parent !== window) {
    try {
      hostOrigin = new URL(declared).origin;
    } catch {
      hostOrigin = null;
    }
  }
  return {
    hostOrigin,
    post(message) {
      if (hostOrigin) window.parent.postMessage(message, hostOrigin);
    },
    listen(handler) {
      const onMessage = (event: MessageEvent) => {
        if (!hostOrigin || event.origin !== hostOrigin || event.source !== window.parent) return;
        const parsed = HostToWidget.safeParse(event.data);
        if (parsed.success) handler(parsed.data);
      };
      window.addEventListener('message', onMessage);
      return () => window.removeEventListener('message', onMessage);
    },
  };
}
