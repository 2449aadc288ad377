/**
 * Every user-facing string of the console, in English. A translation is another object of the
 * same type (`Strings`), chosen in one place.
 */
const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

export const en = {
  appName: 'Parley',
  consoleTitle: 'Parley console',
  loading: 'Loading…',
  retry: 'Retry',
  cancel: 'Cancel',
  save: 'Save',
  close: 'Close',
  dismiss: 'Dismiss',

  // login
  loginTitle: 'Sign in to the support console',
  email: 'Email',
  password: 'Password',
  signIn: 'Sign in',
  signingIn: 'Signing in…',
  signOut: 'Sign out',
  sessionExpired: 'Your session has expired. Please sign in again.',
  wrongCredentials: 'Wrong email or password.',

  // navigation
  navMine: 'My chats',
  navQueue: 'Queue',
  navAll: 'All chats',
  navArchived: 'Archived',
  navVisitors: 'Visitors online',
  navOperators: 'Operators',
  navOutbox: 'Email outbox',
  navHours: 'Business hours',
  mainNavigation: 'Main navigation',
  team: 'Team',

  // connection
  connected: 'Live',
  connecting: 'Connecting…',
  disconnected: 'Offline – reconnecting',

  // operator status
  statusLabel: 'Your status',
  status: { online: 'Online', away: 'Away', offline: 'Offline' } as Record<
    'online' | 'away' | 'offline',
    string
  >,
  load: (active: number, max: number) => `${active} / ${max} chats`,

  // chat list
  supportChats: 'Support Chats',
  tabActive: 'Active',
  tabArchived: 'Archived',
  noChats: 'No chats yet.',
  noArchivedChats: 'No archived chats.',
  noMyChats:
    'No chats assigned to you. New visitors are assigned automatically while you are online.',
  loadMore: 'Load more',
  youPrefix: 'You: ',
  noMessagesYet: 'No messages yet',
  attachmentPreview: '[attachment]',
  messageCount: (n: number) => plural(n, 'message', 'messages'),
  unread: 'Unread',
  anonymousVisitor: 'Anonymous visitor',

  // relative times
  justNow: 'just now',
  minutesAgo: (n: number) => `${plural(n, 'minute', 'minutes')} ago`,
  hoursAgo: (n: number) => `${plural(n, 'hour', 'hours')} ago`,
  daysAgo: (n: number) => `${plural(n, 'day', 'days')} ago`,
  duration: (seconds: number) => {
    if (seconds < 60) return `${seconds} s`;
    const m = Math.floor(seconds / 60);
    if (m < 60) return `${m} min`;
    return `${Math.floor(m / 60)} h ${m % 60} min`;
  },

  // queue
  queueTitle: 'Waiting visitors',
  queueEmpty: 'Nobody is waiting.',
  visitorLeft: 'Visitor left',
  offlineMessage: 'Offline message',
  sendTranscript: 'Email transcript',
  transcriptSent: (to: string) => `Transcript sent to ${to}.`,
  ratedBy: (score: 'good' | 'bad') =>
    score === 'good' ? 'Visitor rated this chat: good' : 'Visitor rated this chat: bad',
  offlineMessageHint:
    'Written outside business hours or while no operator was online; the visitor was told we reply by email.',
  visitorLeftWithEmail: 'Left the page; a reply reaches them by email.',
  visitorLeftNoEmail: 'Left the page without an email address: nobody would read a reply.',
  waiting: (d: string) => `waiting ${d}`,
  position: (n: number) => `#${n}`,
  take: 'Take',

  // chat detail
  back: 'Back to chats',
  archive: 'Archive',
  restore: 'Restore',
  transfer: 'Transfer',
  closeChat: 'Close chat',
  closeChatConfirm: 'Close this chat? The visitor will see that it has ended.',
  you: 'You',
  system: 'System',
  actions: 'Actions',
  eventJoined: '{name} joined the chat',
  eventLeft: '{name} left the chat',
  eventReturned: '{name} returned the chat to the queue',
  eventTransferred: 'Transferred from {from} to {to}',
  eventClosedByOperator: 'Chat closed by {name}',
  eventClosedByVisitor: 'Chat closed by the visitor',
  eventClosedBySystem: 'Chat closed automatically',
  voiceLength: 'Length',
  olderMessages: 'Load older messages',
  typing: (who: string) => `${who} is typing…`,
  visitor: 'Visitor',
  composerPlaceholder: 'Type a reply… (Enter to send, Shift+Enter for a new line)',
  send: 'Send',
  cannedReplies: 'Canned replies',
  cannedPersonal: 'personal',
  cannedTeam: 'team',
  cannedShortcut: 'Shortcut',
  cannedTitle: 'Title',
  cannedContent: 'Text',
  cannedScope: 'For',
  cannedCreate: 'Add reply',
  cannedDelete: 'Delete',
  cannedSaved: 'Canned reply saved.',
  cannedHelp: (variables: string) =>
    `Type / and the shortcut in a chat's composer to insert one. Variables: ${variables}; add a fallback after |, e.g. {{visitor.name|there}}.`,
  noteToggle: 'Note',
  noteToggleTitle: 'Write an internal note instead of a reply (Alt+T)',
  noteLabel: 'Note — only your team sees this',
  notePlaceholder: 'Internal note… @name mentions a colleague',
  noteTag: 'Note',
  addNote: 'Add note',
  mentions: 'Mentions',
  mentionsEmpty: 'No one has mentioned you in a note yet.',
  mentionedYou: (name: string) => `${name} mentioned you in a note`,
  unreadMention: 'Unread',
  sending: 'Sending…',
  attachImage: 'Attach image',
  removeAttachment: 'Remove',
  messageFailed: 'Not sent',
  resend: 'Resend',
  sessionWaiting: 'Waiting in the queue',
  sessionActive: (name: string) => `Assigned to ${name}`,
  sessionClosed: 'Closed',
  noSession: 'Not routed',
  chatNotFound: 'This chat does not exist.',
  reloadedAfterGap: 'Reconnected: the conversation was reloaded.',
  voiceMessage: 'Voice message',
  download: 'Download',

  // transfer dialog
  transferTitle: 'Transfer chat',
  transferTo: 'Hand this chat to an online colleague, or put it back in the queue.',
  backToQueue: 'Back to the queue',
  noColleagues: 'No colleague is online.',
  full: 'full',
  forceTransfer: 'Allow beyond capacity (admins)',

  // visitor panel
  visitorPanel: 'Visitor',
  name: 'Name',
  identified: 'Identified',
  anonymous: 'Anonymous',
  currentPage: 'Current page',
  pagesSeen: 'Pages seen',
  browser: 'Browser / OS',
  localTime: 'Local time',
  firstSeen: 'First seen',
  previousSessions: 'Previous sessions',
  notOnline: 'Not browsing now',
  none: '—',
  unsubscribed: 'Unsubscribed from email',

  // online visitors
  visitorsTitle: 'Visitors online',
  noVisitors: 'No visitors are browsing right now.',
  visitorSearch: 'Search name, email, page or country',
  visitorFilter: 'Show',
  visitorFilterAll: 'Everyone',
  visitorFilterBrowsing: 'Browsing only',
  visitorFilterChatting: 'In a chat',
  visitorFilterIdentified: 'Identified',
  visitorSort: 'Sort by',
  visitorSortNewest: 'Newest first',
  visitorSortOldest: 'Longest on site',
  visitorSortName: 'Name',
  visitorSortPage: 'Page',
  visitorRange: (from: number, to: number, total: number) => `${from}–${to} of ${total}`,
  previousPage: 'Previous',
  nextPage: 'Next',
  timeOnSite: 'Time on site',
  page: 'Page',
  returning: 'Returning',
  newVisitor: 'New',
  country: 'Country',
  invite: 'Invite',
  inviteTitle: (who: string) => `Invite ${who} to chat`,
  inviteMessage: 'Message',
  inviteDefault: 'Hi! Can I help you with anything?',
  sendInvitation: 'Send invitation',
  openChat: 'Open chat',
  invited: 'Invitation sent.',

  // operators
  operatorsTitle: 'Operators',
  presence: 'Presence',
  role: 'Role',
  roles: { admin: 'Admin', agent: 'Agent' } as Record<'admin' | 'agent', string>,
  capacity: 'Capacity',
  active: 'Active',
  deactivated: 'Deactivated',
  deactivate: 'Deactivate',
  reactivate: 'Reactivate',
  createOperator: 'Add operator',
  created: 'Operator added.',
  updated: 'Saved.',

  // business hours
  hoursTitle: 'Business hours',
  hoursIntro:
    'Outside these hours, or when no operator is online, the widget tells visitors so, asks for their email and queues their message as an offline message.',
  hoursEnabled: 'Use business hours (otherwise open whenever an operator is online)',
  hoursTimeZone: 'Time zone (IANA, e.g. Europe/Berlin)',
  hoursClosed: 'Closed',
  hoursAddStretch: 'Add hours',
  hoursRemoveStretch: 'Remove',
  hoursOpen: 'Opens',
  hoursClose: 'Closes',
  hoursHolidays: 'Holidays (closed all day)',
  hoursAddHoliday: 'Add holiday',
  hoursSaved: 'Business hours saved.',
  weekdays: {
    monday: 'Monday',
    tuesday: 'Tuesday',
    wednesday: 'Wednesday',
    thursday: 'Thursday',
    friday: 'Friday',
    saturday: 'Saturday',
    sunday: 'Sunday',
  } as Record<
    'monday' | 'tuesday' | 'wednesday' | 'thursday' | 'friday' | 'saturday' | 'sunday',
    string
  >,

  // outbox
  outboxTitle: 'Email outbox',
  outboxEmpty: 'No email has been sent yet.',
  to: 'To',
  subject: 'Subject',
  sentAt: 'Created',
  emailStatus: { outbox: 'Kept locally', sent: 'Sent', failed: 'Failed' } as Record<
    'outbox' | 'sent' | 'failed',
    string
  >,

  // notifications
  newAssignment: (who: string) => `New chat assigned: ${who}`,
  transferredFrom: (name: string) => `transferred by ${name}`,
  enableNotifications: 'Get a desktop notification when a chat is assigned to you?',
  enable: 'Enable',
  notNow: 'Not now',
  unassigned: {
    transferred: 'This chat was transferred to a colleague.',
    closed: 'This chat was closed.',
    requeued: 'This chat went back to the queue.',
    offline: 'You went offline: this chat went back to the queue.',
  } as Record<'transferred' | 'closed' | 'requeued' | 'offline', string>,

  // errors
  errorTitle: 'Something went wrong',
  networkError: 'The server cannot be reached. Check your connection and try again.',
  unexpectedResponse: 'The server sent an answer the console does not understand.',
  forbidden: 'You are not allowed to do this.',
  notFound: 'Not found.',

  // shortcuts
  shortcutsHint: 'Shortcuts: ? all shortcuts · Alt+N next unread chat · Enter send',
  shortcutsTitle: 'Keyboard shortcuts',
  shortcutList: [
    ['?', 'Show or hide this list'],
    ['Alt+N', 'Next chat that needs an answer'],
    ['Alt+↓ / Alt+↑', 'Next / previous chat in the list'],
    ['/', 'Canned replies (at the start of the composer); ↑ ↓ choose, Enter inserts, Esc closes'],
    ['Alt+/', 'Open the canned replies'],
    ['Alt+T', 'Toggle between reply and internal note'],
    ['Enter', 'Send'],
    ['Shift+Enter', 'New line'],
  ] as const,
};

export type Strings = typeof en;

/** The active strings; switch here when translations exist. */
export const t: Strings = en;
