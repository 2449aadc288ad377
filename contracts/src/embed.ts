import { z } from 'zod';
import { PageInfo } from './models.ts';

/**
 * postMessage shapes between the host-page loader and the widget iframe.
 * Both sides post with an explicit target origin and check `event.origin` on receipt.
 */
const ns = z.literal('parley');

export const WidgetSettings = z.object({
  /** Gateway origin, e.g. https://chat.example.com */
  gateway_url: z.string().url(),
  lang: z.enum(['en', 'zh', 'ru']).optional(),
  color: z
    .string()
    .regex(/^#[0-9a-fA-F]{6}$/)
    .optional(),
  position: z.enum(['right', 'left']).default('right'),
  /** Host-verified identity for logged-in users. */
  user: z
    .object({
      user_id: z.string().min(1).max(190),
      email: z.string().max(254).optional(),
      name: z.string().max(100).optional(),
      user_hash: z.string().max(128),
    })
    .optional(),
});
export type WidgetSettings = z.infer<typeof WidgetSettings>;

/** Loader → iframe. */
export const HostToWidget = z.discriminatedUnion('type', [
  z.object({ ns, type: z.literal('init'), settings: WidgetSettings, page: PageInfo }),
  z.object({ ns, type: z.literal('open') }),
  z.object({ ns, type: z.literal('close') }),
  z.object({ ns, type: z.literal('page'), page: PageInfo }),
]);
export type HostToWidget = z.infer<typeof HostToWidget>;

/** Iframe → loader. */
export const WidgetToHost = z.discriminatedUnion('type', [
  z.object({ ns, type: z.literal('ready') }),
  /** The widget wants the panel open (invitation) or closed (its own X button). */
  z.object({ ns, type: z.literal('request_open') }),
  z.object({ ns, type: z.literal('request_close') }),
  z.object({ ns, type: z.literal('unread'), count: z.number().int().nonnegative() }),
  z.object({ ns, type: z.literal('connection'), connected: z.boolean() }),
]);
export type WidgetToHost = z.infer<typeof WidgetToHost>;
