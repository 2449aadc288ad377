import * as z from 'zod/mini';
import { nonNegativeInt } from './int.ts';
import { wellFormed } from './text.ts';
import { PageInfo } from './models.ts';

/**
 * postMessage shapes between the host-page loader and the widget iframe.
 * Both sides post with an explicit target origin and check `event.origin` on receipt.
 */
const ns = /* @__PURE__ */ z.literal('parley');

export const WidgetSettings = /* @__PURE__ */ z.object({
  /** Gateway origin, e.g. https://chat.example.com */
  gateway_url: /* @__PURE__ */ z.string().check(z.url()),
  lang: z.optional(z.enum(['en', 'zh', 'ru'])),
  color: z.optional(/* @__PURE__ */ z.string().check(z.regex(/^#[0-9a-fA-F]{6}$/))),
  position: z._default(z.enum(['right', 'left']), 'right'),
  /** Host-verified identity for logged-in users. */
  user: z.optional(
    z.object({
      user_id: /* @__PURE__ */ z.string().check(wellFormed(), z.minLength(1), z.maxLength(190)),
      email: z.optional(/* @__PURE__ */ z.string().check(wellFormed(), z.maxLength(254))),
      name: z.optional(/* @__PURE__ */ z.string().check(wellFormed(), z.maxLength(100))),
      user_hash: /* @__PURE__ */ z.string().check(z.maxLength(128)),
    }),
  ),
});
export type WidgetSettings = z.infer<typeof WidgetSettings>;

/** Loader → iframe. */
export const HostToWidget = /* @__PURE__ */ z.discriminatedUnion('type', [
  z.object({ ns, type: z.literal('init'), settings: WidgetSettings, page: PageInfo }),
  z.object({ ns, type: z.literal('open') }),
  z.object({ ns, type: z.literal('close') }),
  z.object({ ns, type: z.literal('page'), page: PageInfo }),
]);
export type HostToWidget = z.infer<typeof HostToWidget>;

/** Iframe → loader. */
export const WidgetToHost = /* @__PURE__ */ z.discriminatedUnion('type', [
  z.object({ ns, type: z.literal('ready') }),
  /** The widget wants the panel open (invitation) or closed (its own X button). */
  z.object({ ns, type: z.literal('request_open') }),
  z.object({ ns, type: z.literal('request_close') }),
  z.object({ ns, type: z.literal('unread'), count: nonNegativeInt() }),
  z.object({ ns, type: z.literal('connection'), connected: z.boolean() }),
]);
export type WidgetToHost = z.infer<typeof WidgetToHost>;
