/**
 * The widget's one REST client: every path the widget calls, each response parsed with the
 * contracts schema it is declared with, every failure turned into an ApiError with the server's code.
 */
import type * as z from 'zod/mini';
import { ApiError, errorFromBody, errorFromResponse } from '@parley/chat-client/errors';
import { fetchAttachment } from '@parley/chat-client/attachments';
import {
  ATTACHMENT_CHAT_FIELD,
  ATTACHMENT_FILE_FIELD,
  AttachmentResponse,
  MarkReadResponse,
  MessagesPage,
  SendMessageResponse,
  SupportChatResponse,
  VisitorSessionResponse,
  type EmailLinkRequest,
  type SendMessageRequest,
  type VisitorProfileUpdate,
  type VisitorSessionRequest,
} from '@parley/contracts/http';
import type { Attachment } from '@parley/contracts/models';
import type { visitorRoutes } from '@parley/contracts/http';

/**
 * The paths of the contracts' `visitorRoutes` the widget calls. Spelled out so the first load
 * does not carry the whole route table (its schemas); `satisfies` makes a path the table lacks
 * a compile error, so the widget and the gateway cannot drift apart.
 */
type VisitorPath = (typeof visitorRoutes)[keyof typeof visitorRoutes]['path'];
export const paths = {
  session: '/api/visitor/session',
  emailLink: '/api/visitor/email_link',
  profile: '/api/support_chat/profile',
  chat: '/api/support_chat',
  markRead: '/api/support_chat/mark_read',
  messages: '/api/support_chat/messages',
  attachments: '/api/attachments',
} as const satisfies Record<string, VisitorPath>;

export interface ApiClient {
  createSession(body: VisitorSessionRequest): Promise<z.infer<typeof VisitorSessionResponse>>;
  /** The session part of EmailLinkResponse is all the widget needs. */
  openEmailLink(body: EmailLinkRequest): Promise<z.infer<typeof VisitorSessionResponse>>;
  updateProfile(body: VisitorProfileUpdate): Promise<void>;
  getChat(): Promise<z.infer<typeof SupportChatResponse>>;
  markRead(): Promise<z.infer<typeof MarkReadResponse>>;
  messagesAfter(afterSeq: number): Promise<z.infer<typeof MessagesPage>>;
  messagesBefore(beforeSeq: number): Promise<z.infer<typeof MessagesPage>>;
  sendMessage(body: SendMessageRequest): Promise<z.infer<typeof SendMessageResponse>>;
  upload(
    chatId: string,
    file: Blob,
    name: string,
    onProgress: (fraction: number) => void,
  ): Promise<Attachment>;
  fetchAttachment(url: string): Promise<Blob>;
}

export function createApiClient(origin: string, getToken: () => string | null): ApiClient {
  function headers(json: boolean): Record<string, string> {
    const result: Record<string, string> = { accept: 'application/json' };
    if (json) result['content-type'] = 'application/json';
    const token = getToken();
    if (token) result.authorization = `Bearer ${token}`;
    return result;
  }

  async function request<S extends z.ZodMiniType>(
    method: string,
    path: string,
    schema: S | null,
    body?: unknown,
  ): Promise<z.infer<S>> {
    let response: Response;
    try {
      response = await fetch(origin + path, {
        method,
        headers: headers(body !== undefined),
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'omit',
      });
    } catch (error) {
      throw new ApiError('network', 0, error instanceof Error ? error.message : String(error));
    }
    if (!response.ok) throw await errorFromResponse(response);
    if (!schema) return undefined as z.infer<S>;
    return parse(schema, await response.json().catch(() => null), response.status);
  }

  return {
    createSession: (body) => request('POST', paths.session, VisitorSessionResponse, body),
    openEmailLink: (body) => request('POST', paths.emailLink, VisitorSessionResponse, body),
    updateProfile: async (body) => {
      await request('PATCH', paths.profile, null, body);
    },
    getChat: () => request('GET', paths.chat, SupportChatResponse),
    markRead: () => request('PATCH', paths.markRead, MarkReadResponse, {}),
    messagesAfter: (afterSeq) =>
      request('GET', `${paths.messages}?after_seq=${afterSeq}&limit=200`, MessagesPage),
    messagesBefore: (beforeSeq) =>
      request('GET', `${paths.messages}?before_seq=${beforeSeq}&limit=50`, MessagesPage),
    sendMessage: (body) => request('POST', paths.messages, SendMessageResponse, body),

    // XMLHttpRequest because fetch cannot report upload progress.
    upload: (chatId, file, name, onProgress) =>
      new Promise<Attachment>((resolve, reject) => {
        const xhr = new XMLHttpRequest();
        xhr.open('POST', origin + paths.attachments);
        const token = getToken();
        if (token) xhr.setRequestHeader('authorization', `Bearer ${token}`);
        xhr.setRequestHeader('accept', 'application/json');
        xhr.setRequestHeader('x-chat-id', chatId);
        xhr.upload.onprogress = (event) => {
          if (event.lengthComputable) onProgress(event.loaded / event.total);
        };
        xhr.onerror = () => reject(new ApiError('network', 0, 'upload failed'));
        xhr.onload = () => {
          let json: unknown;
          try {
            json = JSON.parse(xhr.responseText);
          } catch {
            json = null;
          }
          if (xhr.status >= 200 && xhr.status < 300) {
            try {
              resolve(parse(AttachmentResponse, json, xhr.status));
            } catch (error) {
              reject(error);
            }
          } else {
            reject(errorFromBody(json, xhr.status));
          }
        };
        const form = new FormData();
        form.append(ATTACHMENT_CHAT_FIELD, chatId);
        form.append(ATTACHMENT_FILE_FIELD, file, name);
        xhr.send(form);
      }),

    fetchAttachment: (url) => fetchAttachment(url, origin, getToken()),
  };
}

function parse<S extends z.ZodMiniType>(schema: S, json: unknown, status: number): z.infer<S> {
  const result = schema.safeParse(json);
  if (!result.success) {
    throw new ApiError('invalid_response', status, 'The server sent an unexpected response.');
  }
  return result.data;
}
