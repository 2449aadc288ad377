import * as z from 'zod/mini';

/**
 * Branded ids: passing a visitor id where a chat id belongs does not compile.
 * Every id is a plain string on the wire; the brand exists only in types.
 */
export const ChatId = /* @__PURE__ */ z.uuid().brand<'ChatId'>();
export type ChatId = z.infer<typeof ChatId>;

export const MessageId = /* @__PURE__ */ z.uuid().brand<'MessageId'>();
export type MessageId = z.infer<typeof MessageId>;

export const OperatorId = /* @__PURE__ */ z.uuid().brand<'OperatorId'>();
export type OperatorId = z.infer<typeof OperatorId>;

export const AttachmentId = /* @__PURE__ */ z.uuid().brand<'AttachmentId'>();
export type AttachmentId = z.infer<typeof AttachmentId>;

export const SessionId = /* @__PURE__ */ z.uuid().brand<'SessionId'>();
export type SessionId = z.infer<typeof SessionId>;

/** Made by the sending client for each message; the dedupe key with the chat id. */
export const ClientId = /* @__PURE__ */ z.uuid().brand<'ClientId'>();
export type ClientId = z.infer<typeof ClientId>;

/**
 * A visitor (the chat's "user"). Anonymous visitors get `v_<uuid>` from the gateway;
 * identified visitors use the host site's own user id (verified by HMAC), prefixed `u_`
 * so the two namespaces can never collide.
 */
export const UserId = /* @__PURE__ */ z
  .string()
  .check(
    z.minLength(3),
    z.maxLength(200),
    z.regex(
      /^[vu]_[A-Za-z0-9_.:@-]+$/,
      'must be a visitor id (v_…) or an identified user id (u_…)',
    ),
  )
  .brand<'UserId'>();
export type UserId = z.infer<typeof UserId>;

/** ISO 8601 timestamp with offset, as every date travels. */
export const IsoDate = /* @__PURE__ */ z.iso.datetime({ offset: true });
export type IsoDate = z.infer<typeof IsoDate>;
