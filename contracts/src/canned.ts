import * as z from 'zod/mini';
import { IsoDate, OperatorId } from './ids.ts';
import { MAX_MESSAGE_LENGTH } from './models.ts';
import { wellFormed } from './text.ts';

/**
 * Canned replies (docs/PRODUCT.md, Canned replies): team-wide ones admins manage, personal ones
 * each operator keeps. `content` may hold variables such as `{{visitor.name|there}}`, filled in
 * by the console when the reply is inserted (the text after `|` is the fallback).
 */
export const CannedScope = z.enum(['team', 'personal']);
export type CannedScope = z.infer<typeof CannedScope>;

export const CannedResponseId = /* @__PURE__ */ z.string().check(z.uuid());

export const CannedResponse = z.object({
  id: z.string(),
  shortcut: z.string(),
  title: z.string(),
  content: z.string(),
  scope: CannedScope,
  /** The operator a personal reply belongs to; null for team replies. */
  owner_id: z.nullable(OperatorId),
  created_at: IsoDate,
  updated_at: IsoDate,
});
export type CannedResponse = z.infer<typeof CannedResponse>;

/** Letters, digits, `_`, `-` and `.`: typed after `/` in the composer. */
export const CannedShortcut = /* @__PURE__ */ z
  .string()
  .check(
    wellFormed(),
    z.trim(),
    z.minLength(1),
    z.maxLength(32),
    z.regex(/^[\p{L}\p{N}_.-]+$/u, 'letters, digits, _ . - only'),
  );
const CannedTitle = /* @__PURE__ */ z
  .string()
  .check(wellFormed(), z.trim(), z.minLength(1), z.maxLength(100));
const CannedContent = /* @__PURE__ */ z
  .string()
  .check(wellFormed(), z.trim(), z.minLength(1), z.maxLength(MAX_MESSAGE_LENGTH));

/** POST /api/admin/canned_responses. */
export const CreateCannedBody = z.strictObject({
  shortcut: CannedShortcut,
  title: CannedTitle,
  content: CannedContent,
  scope: CannedScope,
});
export type CreateCannedBody = z.infer<typeof CreateCannedBody>;

/** PATCH /api/admin/canned_responses/:id: any of the fields; the scope cannot change. */
export const UpdateCannedBody = z.strictObject({
  shortcut: z.optional(CannedShortcut),
  title: z.optional(CannedTitle),
  content: z.optional(CannedContent),
});
export type UpdateCannedBody = z.infer<typeof UpdateCannedBody>;

export const CannedListResponse = z.array(CannedResponse);
