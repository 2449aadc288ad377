import { goto } from '$app/navigation';
import { resolve } from '$app/paths';
import type {
  CannedResponse,
  ChatId,
  NoteMention,
  OnlineVisitor,
  OperatorPresence,
  QueueEntry,
  RoutingSession,
  SupportChatListItem,
  ws,
} from '@parley/contracts';
import type { OnlineVisitorsQuery } from '@parley/contracts/http';
import { SvelteMap, SvelteSet } from 'svelte/reactivity';
import { playChime, desktopNotify } from './alerts.ts';
import { api } from './api.ts';
import { live } from './console-socket.svelte.ts';
import { notify, reportError } from './notices.svelte.ts';
import { auth } from './session.svelte.ts';
import { t } from './strings.ts';
import { applyVisitorChange, type VisitorPage } from './visitor-page.ts';

/**
 * Everything the console shows that changes live: chat list items, my sessions, the queue,
 * colleagues' presence, visitors online and typing. REST fills it, WebSocket frames keep it current.
 */

export interface TypingState {
  name: string | null;
  senderType: 'user' | 'admin' | 'system';
  until: number;
}

interface ListPage {
  cursor: string | null;
  done: boolean;
  loading: boolean;
  loaded: boolean;
  error: unknown;
}

const freshPage = (): ListPage => ({
  cursor: null,
  done: false,
  loading: false,
  loaded: false,
  error: null,
});

class ConsoleState {
  /** Every chat list item seen, by id: one entry per chat, so a chat never shows twice. */
  chats = new SvelteMap<ChatId, SupportChatListItem>();
  pages = $state<Record<'active' | 'archived', ListPage>>({
    active: freshPage(),
    archived: freshPage(),
  });
  me = $state<OperatorPresence | null>(null);
  /** My active sessions, by chat. */
  mine = new SvelteMap<ChatId, RoutingSession>();
  /** Who a chat of mine is with, from the assignment frame (until a list item is known). */
  assignedWho = new SvelteMap<ChatId, { name: string | null; email: string | null }>();
  /** Assigned to me and not opened yet: counted in the document title. */
  unseenAssignments = new SvelteSet<ChatId>();
  queue = $state<QueueEntry[]>([]);
  operators = $state<OperatorPresence[]>([]);
  /** The page of the online-visitors list shown (query, visitors, matching total). */
  visitorPage = $state<VisitorPage>({
    query: { filter: 'all', sort: 'newest', offset: 0, limit: 50 },
    visitors: [],
    total: 0,
  });
  /** How many visitors browse now (all pages, any filter). */
  visitorsOnline = $state(0);
  get visitors(): OnlineVisitor[] {
    return this.visitorPage.visitors;
  }
  typing = new SvelteMap<ChatId, TypingState>();
  /** Team and my personal canned replies (loaded when first needed). */
  canned = $state<CannedResponse[]>([]);
  private cannedLoad: Promise<void> | null = null;

  /** Loads the canned replies once per console session (reload with force after edits). */
  loadCanned(force = false): Promise<void> {
    if (!this.cannedLoad || force) {
      this.cannedLoad = api.listCanned().then(
        (replies) => {
          this.canned = replies;
        },
        (err: unknown) => {
          this.cannedLoad = null;
          reportError(err);
        },
      );
    }
    return this.cannedLoad;
  }

  /** Notes mentioning me, newest first (the Mentions view); unread until I open the chat. */
  mentions = $state<NoteMention[]>([]);
  /** The chat open in the detail page: its incoming messages are not "unread" for me. */
  openChatId = $state<ChatId | null>(null);
  private started = false;
  private offLive: (() => void) | null = null;
  private welcomes = 0;

  sortedChats(archived: boolean): SupportChatListItem[] {
    return [...this.chats.values()]
      .filter((c) => c.archived === archived)
      .sort((a, b) => sortKey(b) - sortKey(a));
  }

  /** Chats of mine that need me (new assignment or unread visitor message): the title count. */
  unreadCount(): number {
    const unread: ChatId[] = [...this.unseenAssignments];
    for (const id of this.mine.keys()) {
      const c = this.chats.get(id);
      if (c?.unread && id !== this.openChatId && !unread.includes(id)) unread.push(id);
    }
    return unread.length;
  }

  /** The next chat that needs an answer, after the one open now (Alt+N). */
  nextUnread(after: ChatId | null): ChatId | null {
    const candidates = this.sortedChats(false)
      .filter((c) => c.unread || this.unseenAssignments.has(c.id))
      .map((c) => c.id);
    for (const id of this.unseenAssignments) if (!candidates.includes(id)) candidates.push(id);
    const others = candidates.filter((id) => id !== after);
    return others[0] ?? null;
  }

  unreadMentions(): number {
    return this.mentions.filter((m) => m.seen_at === null && m.chat_id !== this.openChatId).length;
  }

  async loadMentions(): Promise<void> {
    try {
      this.mentions = await api.mentions();
    } catch (err) {
      reportError(err);
    }
  }

  /** Opening a chat marks its mentions of me seen (the server does the same on open). */
  mentionsSeen(chatId: ChatId): void {
    const now = new Date().toISOString();
    this.mentions = this.mentions.map((m) =>
      m.chat_id === chatId && m.seen_at === null ? { ...m, seen_at: now } : m,
    );
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.offLive = live.on((frame) => this.apply(frame));
    live.start();
    void this.refresh();
  }

  stop(): void {
    this.started = false;
    this.offLive?.();
    live.stop();
    this.chats.clear();
    this.mine.clear();
    this.unseenAssignments.clear();
    this.pages = { active: freshPage(), archived: freshPage() };
    this.me = null;
    this.welcomes = 0;
    this.canned = [];
    this.cannedLoad = null;
  }

  /** Routing state and the first page of each loaded list (after start and after a reconnect). */
  async refresh(): Promise<void> {
    try {
      const [me, queue, operators] = await Promise.all([
        api.routingMe(),
        api.queue(),
        api.operatorsPresence(),
      ]);
      this.me = me.operator;
      this.mine.clear();
      for (const s of me.sessions) if (s.status === 'active') this.mine.set(s.chat_id, s);
      this.queue = queue;
      this.operators = operators;
      await this.loadVisitors();
      this.mentions = await api.mentions();
    } catch (err) {
      reportError(err);
    }
    for (const tab of ['active', 'archived'] as const) {
      if (this.pages[tab].loaded) {
        this.pages[tab] = freshPage();
        await this.loadMore(tab === 'archived');
      }
    }
  }

  /** Asks the server for a page of the online list (the query given, else the current one). */
  async loadVisitors(query: Partial<OnlineVisitorsQuery> = {}): Promise<void> {
    const wanted = { ...this.visitorPage.query, ...query };
    const page = await api.onlineVisitorsPage(wanted);
    this.visitorPage = { query: wanted, visitors: page.visitors, total: page.total };
    this.visitorsOnline = page.online;
  }

  async loadMore(archived: boolean): Promise<void> {
    const key = archived ? 'archived' : 'active';
    const page = this.pages[key];
    if (page.loading || page.done) return;
    page.loading = true;
    page.error = null;
    try {
      const { items, nextCursor } = await api.listChats(archived, page.cursor);
      for (const item of items) this.upsertChat(item);
      page.cursor = nextCursor;
      page.done = nextCursor === null;
      page.loaded = true;
    } catch (err) {
      page.error = err;
    } finally {
      page.loading = false;
    }
  }

  /** Keeps the newer of two versions of a list item (frames can overtake a REST page). */
  upsertChat(item: SupportChatListItem): void {
    const known = this.chats.get(item.id);
    if (known && known.last_seq > item.last_seq) return;
    this.chats.set(item.id, item.id === this.openChatId ? { ...item, unread: false } : item);
  }

  async setStatus(status: OperatorPresence['status']): Promise<void> {
    try {
      this.me = await api.setStatus(status);
    } catch (err) {
      reportError(err);
    }
  }

  private apply(frame: ws.ServerFrame): void {
    switch (frame.type) {
      case 'welcome':
        // After a reconnect, re-read what may have changed while we were away.
        if (this.welcomes++ > 0) void this.refresh();
        break;
      case 'new_user_message':
        this.upsertChat(frame.chat);
        this.typing.delete(frame.chat_id);
        break;
      case 'new_message':
        if (frame.message.sender_type === 'user') {
          this.typing.delete(frame.chat_id);
          if (frame.chat_id === this.openChatId && document.visibilityState === 'visible') {
            void api.markViewed(frame.chat_id).then((chat) => this.upsertChat(chat), reportError);
          }
        }
        break;
      case 'chat_updated':
        this.upsertChat(frame.chat);
        break;
      case 'chat_assigned':
        this.onAssigned(frame);
        break;
      case 'mention':
        this.onMention(frame);
        break;
      case 'chat_unassigned':
        this.mine.delete(frame.chat_id);
        this.unseenAssignments.delete(frame.chat_id);
        if (frame.chat_id === this.openChatId) notify(t.unassigned[frame.reason]);
        break;
      case 'session_status':
        if (
          frame.session.status === 'active' &&
          frame.session.operator?.id === auth.session?.operator.id
        ) {
          this.mine.set(frame.chat_id, frame.session);
        } else if (this.mine.has(frame.chat_id)) {
          this.mine.delete(frame.chat_id);
        }
        break;
      case 'queue_updated':
        this.queue = frame.queue;
        break;
      case 'operator_state':
        this.upsertOperator(frame.operator);
        break;
      case 'visitor_presence':
        this.visitorsOnline = frame.online;
        this.visitorPage = applyVisitorChange(this.visitorPage, frame.user_id, frame.visitor);
        break;
      case 'typing':
        if (frame.sender_type === 'admin' && frame.sender_name === auth.session?.operator.name)
          break;
        this.typing.set(frame.chat_id, {
          name: frame.sender_name,
          senderType: frame.sender_type,
          until: Date.now() + frame.expires_in_ms,
        });
        setTimeout(() => {
          const current = this.typing.get(frame.chat_id);
          if (current && current.until <= Date.now()) this.typing.delete(frame.chat_id);
        }, frame.expires_in_ms + 50);
        break;
      default:
        break;
    }
  }

  private upsertOperator(operator: OperatorPresence): void {
    const i = this.operators.findIndex((o) => o.id === operator.id);
    if (i >= 0) this.operators[i] = operator;
    else this.operators.push(operator);
    if (operator.id === auth.session?.operator.id) this.me = operator;
  }

  private onMention(frame: ws.MentionFrame): void {
    if (this.mentions.some((m) => m.note.id === frame.note.id)) return;
    const seen = frame.chat_id === this.openChatId ? frame.note.created_at : null;
    this.mentions = [{ chat_id: frame.chat_id, note: frame.note, seen_at: seen }, ...this.mentions];
    const text = t.mentionedYou(frame.author.name);
    notify(text);
    playChime();
    desktopNotify(text, frame.note.content, () => {
      void goto(resolve('/chats/[id]', { id: frame.chat_id }));
    });
  }

  private onAssigned(frame: ws.ChatAssignedFrame): void {
    this.mine.set(frame.chat_id, frame.session);
    this.assignedWho.set(frame.chat_id, { name: frame.user_name, email: frame.user_email });
    if (frame.chat_id !== this.openChatId) this.unseenAssignments.add(frame.chat_id);
    const who = frame.user_name ?? frame.user_email ?? t.anonymousVisitor;
    const text = frame.from_operator
      ? `${t.newAssignment(who)} (${t.transferredFrom(frame.from_operator.name)})`
      : t.newAssignment(who);
    notify(text);
    playChime();
    desktopNotify(t.consoleTitle, text, () => {
      void goto(resolve('/chats/[id]', { id: frame.chat_id }));
    });
  }
}

/** Newest last message first (docs/PRODUCT.md); a chat without messages sorts by its creation. */
function sortKey(c: SupportChatListItem): number {
  return Date.parse(c.last_message_at ?? c.created_at);
}

export const consoleState = new ConsoleState();
