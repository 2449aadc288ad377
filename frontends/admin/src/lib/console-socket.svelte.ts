import { createChatSocket, ticketSocketUrl, type SocketState } from '@parley/chat-client/socket';
import { redirectToLogin } from './api.ts';
import { currentToken } from './session.svelte.ts';

/**
 * The console's one WebSocket (the shared reconnecting socket from @parley/chat-client):
 * subscribes to the admin and operator channels on every (re)connect; each open chat's
 * conversation subscribes its own chat. A refused token sends the operator to the login page.
 */
function createConsoleSocket() {
  const status = $state<{ state: SocketState }>({ state: 'closed' });
  const socket = createChatSocket({
    url: () => {
      const token = currentToken();
      if (!token) {
        void redirectToLogin(true);
        return null;
      }
      return ticketSocketUrl(location.origin, token);
    },
    onUnauthorized: () => void redirectToLogin(true),
    onRefused: () => void redirectToLogin(false),
  });
  socket.onState((state) => {
    status.state = state;
    if (state !== 'open') return;
    socket.send({ type: 'subscribe', channel: 'admin' });
    socket.send({ type: 'subscribe', channel: 'operator' });
  });
  return {
    socket,
    /** What the "Live" indicator shows. */
    get state(): SocketState {
      return status.state;
    },
    start: () => socket.start(),
    stop: () => socket.stop(),
    send: socket.send,
    /** Receives every valid frame; returns the unsubscribe function. */
    on: socket.onFrame,
  };
}

export const live = createConsoleSocket();
