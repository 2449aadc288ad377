import {
  AppError,
  PREVIEW_LENGTH,
  type Attachment,
  type ChatId,
  type Operator,
  type SupportChatListItem,
} from '@parley/contracts';
import type { ChatListCursor, ChatRecord, OperatorRecord } from './store.ts';

/** How stored chats, messages and operators look to clients: previews, list items, cursors. */

/** The list preview: at most 100 characters, cut on a code point, with an ellipsis. */
export function truncatePreview(text: string, length = PREVIEW_LENGTH): string {
  const chars = Array.from(text);
  if (chars.length <= length) return text;
  return `${chars.slice(0, length - 1).join('')}…`;
}

/** Preview of a message for the chat list; attachment-only messages name what they carry. */
export function messagePreview(
  content: string,
  attachments: Pick<Attachment, 'kind' | 'name'>[],
): string {
  if (content.length > 0) return truncatePreview(content.replace(/\s+/g, ' '));
  const first = attachments[0];
  if (!first) return '';
  const label =
    first.kind === 'image'
      ? '[image]'
      : first.kind === 'audio'
        ? '[audio]'
        : `[file] ${first.name}`;
  return truncatePreview(attachments.length > 1 ? `${label} +${attachments.length - 1}` : label);
}

/** Unread for operators: a visitor message newer than the console's last view. */
export function unreadForAdmin(chat: ChatRecord): boolean {
  return chat.last_user_seq > chat.admin_viewed_seq;
}

export function toListItem(chat: ChatRecord): SupportChatListItem {
  return {
    id: chat.id,
    user_id: chat.user_id,
    user_email: chat.user_email,
    user_name: chat.user_name,
    last_message_at: chat.last_message_at,
    last_message_preview: chat.last_message_preview,
    last_message_sender: chat.last_message_sender,
    labels: chat.labels,
    message_count: chat.message_count,
    unread: unreadForAdmin(chat),
    archived: chat.archived_at !== null,
    last_seq: chat.last_seq,
    created_at: chat.created_at,
  };
}

export function toOperator(record: OperatorRecord): Operator {
  const { password_hash: _hash, ...operator } = record;
  return operator;
}

export function encodeCursor(cursor: ChatListCursor): string {
  return Buffer.from(JSON.stringify([cursor.last_message_at, cursor.id])).toString('base64url');
}

export function decodeCursor(text: string): ChatListCursor {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      typeof value[0] === 'string' &&
      !Number.isNaN(Date.parse(value[0])) &&
      typeof value[1] === 'string' &&
      /^[0-9a-f-]{36}$/i.test(value[1])
    ) {
      return { last_message_at: value[0], id: value[1] as ChatId };
    }
  } catch {
    // fall through to the error below
  }
  throw new AppError('bad_request', 'Invalid cursor: pass the X-Next-Cursor value unchanged');
}
