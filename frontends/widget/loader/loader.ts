/**
 * Parley loader: the one script a host page adds. Creates the launcher button (in a shadow root, so
 * the host's CSS and ours never touch) and the iframe holding the widget app, and relays between
 * them with postMessage: explicit target origin out, origin and source checked in.
 * Framework-free and dependency-free to stay a few KB; the message shapes are contracts' types, and
 * incoming messages are checked by hand against the same discriminants.
 */
import type { HostToWidget, WidgetSettings, WidgetToHost } from '@parley/contracts/embed';
import type { PageInfo } from '@parley/contracts/models';

type Lang = NonNullable<WidgetSettings['lang']>;
type Identity = NonNullable<WidgetSettings['user']>;

interface LoaderGlobal {
  ParleySettings?: Partial<{
    gateway_url: string;
    lang: string;
    color: string;
    position: string;
    user: Partial<Identity>;
  }>;
  __parleyLoaded?: boolean;
}

const strings: Record<Lang, { open: string; close: string; unread: string; frame: string }> = {
  en: { open: 'Open chat', close: 'Close chat', unread: 'unread messages', frame: 'Chat' },
  zh: { open: '打开聊天', close: '关闭聊天', unread: '条未读消息', frame: '聊天' },
  ru: {
    open: 'Открыть чат',
    close: 'Закрыть чат',
    unread: 'непрочитанных сообщений',
    frame: 'Чат',
  },
};

const bubbleIcon =
  '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z"/></svg>';
const closeIcon =
  '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M6.4 5 5 6.4 10.6 12 5 17.6 6.4 19l5.6-5.6 5.6 5.6 1.4-1.4-5.6-5.6L19 6.4 17.6 5 12 10.6z"/></svg>';

function readSettings(script: HTMLScriptElement | null): WidgetSettings | null {
  const global = (window as unknown as LoaderGlobal).ParleySettings ?? {};
  const data = script?.dataset ?? {};
  const scriptOrigin = script?.src ? new URL(script.src, location.href).origin : undefined;
  const gateway = global.gateway_url ?? data.gateway ?? scriptOrigin;
  if (!gateway) return null;
  let gatewayOrigin: string;
  try {
    gatewayOrigin = new URL(gateway).origin;
  } catch {
    return null;
  }
  const langValue = global.lang ?? data.lang;
  const lang: Lang | undefined =
    langValue === 'en' || langValue === 'zh' || langValue === 'ru' ? langValue : undefined;
  const colorValue = global.color ?? data.color;
  const color = colorValue && /^#[0-9a-fA-F]{6}$/.test(colorValue) ? colorValue : undefined;
  const position = (global.position ?? data.position) === 'left' ? 'left' : 'right';
  const user = global.user;
  const identity: Identity | undefined =
    user && typeof user.user_id === 'string' && typeof user.user_hash === 'string'
      ? {
          user_id: user.user_id,
          user_hash: user.user_hash,
          ...(typeof user.email === 'string' ? { email: user.email } : {}),
          ...(typeof user.name === 'string' ? { name: user.name } : {}),
        }
      : undefined;
  return {
    gateway_url: gatewayOrigin,
    position,
    ...(lang ? { lang } : {}),
    ...(color ? { color } : {}),
    ...(identity ? { user: identity } : {}),
  };
}

function pageInfo(): PageInfo {
  return {
    url: location.href.slice(0, 2000),
    title: document.title.slice(0, 300),
    ...(document.referrer ? { referrer: document.referrer.slice(0, 2000) } : {}),
  };
}

/** The same discriminants as contracts' WidgetToHost, checked without shipping zod. */
function asWidgetMessage(data: unknown): WidgetToHost | null {
  if (typeof data !== 'object' || data === null) return null;
  const message = data as { ns?: unknown; type?: unknown; count?: unknown; connected?: unknown };
  if (message.ns !== 'parley') return null;
  switch (message.type) {
    case 'ready':
    case 'request_open':
    case 'request_close':
      return { ns: 'parley', type: message.type };
    case 'unread':
      return typeof message.count === 'number' &&
        Number.isInteger(message.count) &&
        message.count >= 0
        ? { ns: 'parley', type: 'unread', count: message.count }
        : null;
    case 'connection':
      return typeof message.connected === 'boolean'
        ? { ns: 'parley', type: 'connection', connected: message.connected }
        : null;
    default:
      return null;
  }
}

// Only readable while the script first runs, so it is captured before waiting for the body.
const currentScript = document.currentScript as HTMLScriptElement | null;

function boot() {
  const global = window as unknown as LoaderGlobal;
  if (global.__parleyLoaded) return;
  const script = currentScript;
  const settings = readSettings(script);
  if (!settings) {
    console.error(
      '[parley] no gateway URL: set data-gateway on the script tag or window.ParleySettings.gateway_url',
    );
    return;
  }
  global.__parleyLoaded = true;
  const gatewayOrigin = settings.gateway_url;
  const lang =
    settings.lang ??
    (navigator.language.toLowerCase().startsWith('zh')
      ? 'zh'
      : navigator.language.toLowerCase().startsWith('ru')
        ? 'ru'
        : 'en');
  const text = strings[lang];
  const color = settings.color ?? '#1f4fd1';
  const side = settings.position === 'left' ? 'left' : 'right';

  const host = document.createElement('div');
  host.setAttribute('data-parley', '');
  const shadow = host.attachShadow({ mode: 'open' });
  shadow.innerHTML = `<style>
    :host { all: initial; }
    .launcher { position: fixed; ${side}: 20px; bottom: 20px; z-index: 2147483000; width: 60px; height: 60px;
      border: 0; border-radius: 50%; background: ${color}; color: #fff; cursor: pointer; padding: 0;
      display: flex; align-items: center; justify-content: center; box-shadow: 0 4px 14px rgba(0,0,0,.25); }
    .launcher:focus-visible { outline: 3px solid #111; outline-offset: 3px; }
    .launcher svg { width: 28px; height: 28px; fill: currentColor; }
    .badge { position: absolute; top: -4px; right: -4px; min-width: 22px; height: 22px; padding: 0 6px;
      box-sizing: border-box; border-radius: 11px; background: #d92d20; color: #fff; font: 600 12px/22px system-ui, sans-serif;
      text-align: center; }
    .badge[hidden] { display: none; }
    .frame { position: fixed; ${side}: 20px; bottom: 92px; z-index: 2147483000; width: 380px; height: 600px;
      max-height: calc(100vh - 112px); border: 0; border-radius: 14px; background: #fff;
      box-shadow: 0 8px 30px rgba(0,0,0,.25); opacity: 0; transform: translateY(16px); visibility: hidden;
      transition: opacity .2s ease, transform .2s ease, visibility 0s linear .2s; }
    .frame.open { opacity: 1; transform: none; visibility: visible; transition: opacity .2s ease, transform .2s ease; }
    @media (max-width: 480px) {
      .frame { inset: 0; width: 100%; height: 100%; max-height: none; border-radius: 0; }
      .frame.open ~ .launcher { display: none; }
    }
    @media (prefers-reduced-motion: reduce) { .frame, .frame.open { transition: none; transform: none; } }
  </style>`;

  const frame = document.createElement('iframe');
  frame.className = 'frame';
  frame.title = text.frame;
  frame.allow = 'microphone; autoplay';
  // The explicit file works with any static server, whatever its trailing-slash and index rules.
  frame.src = `${gatewayOrigin}/widget/index.html?host=${encodeURIComponent(location.origin)}`;

  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'launcher';
  button.setAttribute('aria-expanded', 'false');
  button.setAttribute('aria-label', text.open);
  button.setAttribute('data-testid', 'parley-launcher');
  button.innerHTML = bubbleIcon;
  const badge = document.createElement('span');
  badge.className = 'badge';
  badge.hidden = true;
  badge.setAttribute('aria-hidden', 'true');
  badge.setAttribute('data-testid', 'parley-badge');
  button.append(badge);

  shadow.append(frame, button);
  document.body.append(host);

  let open = false;
  let ready = false;
  let unread = 0;

  function post(message: HostToWidget) {
    frame.contentWindow?.postMessage(message, gatewayOrigin);
  }

  function render() {
    button.setAttribute('aria-expanded', String(open));
    const label = open ? text.close : text.open;
    button.setAttribute(
      'aria-label',
      unread > 0 && !open ? `${label} (${unread} ${text.unread})` : label,
    );
    button.innerHTML = open ? closeIcon : bubbleIcon;
    badge.textContent = unread > 9 ? '9+' : String(unread);
    badge.hidden = unread === 0;
    button.append(badge);
    frame.classList.toggle('open', open);
    host.setAttribute('data-open', String(open));
    host.setAttribute('data-unread', String(unread));
  }

  function setOpen(next: boolean, moveFocus: boolean) {
    if (open === next) return;
    open = next;
    render();
    if (ready) post({ ns: 'parley', type: open ? 'open' : 'close' });
    if (open && moveFocus) frame.focus();
    if (!open && moveFocus) button.focus();
  }

  button.addEventListener('click', () => setOpen(!open, true));

  window.addEventListener('message', (event) => {
    if (event.origin !== gatewayOrigin || event.source !== frame.contentWindow) return;
    const message = asWidgetMessage(event.data);
    if (!message) return;
    switch (message.type) {
      case 'ready':
        ready = true;
        post({ ns: 'parley', type: 'init', settings, page: pageInfo() });
        if (open) post({ ns: 'parley', type: 'open' });
        break;
      case 'request_open':
        setOpen(true, false);
        break;
      case 'request_close':
        setOpen(false, true);
        break;
      case 'unread':
        unread = message.count;
        render();
        break;
      case 'connection':
        host.setAttribute('data-connected', String(message.connected));
        break;
    }
  });

  // Single-page host sites change URL without reloading: report each new page.
  let lastUrl = location.href;
  const reportPage = () => {
    if (location.href === lastUrl || !ready) return;
    lastUrl = location.href;
    post({ ns: 'parley', type: 'page', page: pageInfo() });
  };
  window.addEventListener('popstate', reportPage);
  window.addEventListener('hashchange', reportPage);
  setInterval(reportPage, 2000);

  render();
}

if (document.body) boot();
else document.addEventListener('DOMContentLoaded', boot, { once: true });
