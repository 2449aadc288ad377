/**
 * Every string the widget shows, in English, Chinese and Russian. The zh and ru dictionaries are
 * typed against the English keys, so a missing translation does not compile. They live in their own
 * modules and are downloaded only when that language is active (English is always in the bundle:
 * it is the fallback and what shows before the host page's settings arrive).
 */
export type Lang = 'en' | 'zh' | 'ru';

const en = {
  title: 'Chat with us',
  close: 'Close chat',
  connected: 'Connected',
  connecting: 'Connecting…',
  polling: 'Connected (limited)',
  offline: 'Offline',
  muteSound: 'Turn notification sound off',
  unmuteSound: 'Turn notification sound on',
  messages: 'Messages',
  you: 'You',
  operator: 'Support',
  system: 'Notice',
  newMessages: 'New messages',
  earlier: 'Show earlier messages',
  inputLabel: 'Your message',
  inputPlaceholder: 'Write a message…',
  send: 'Send message',
  sending: 'Sending…',
  queued: 'Will be sent when back online',
  failed: 'Not sent',
  retry: 'Retry',
  attachImage: 'Attach an image',
  removeImage: 'Remove image',
  uploading: 'Uploading…',
  uploadFailed: 'The file could not be uploaded.',
  imageTooBig: 'The image is too large (max 10 MB).',
  notAnImage: 'Only images can be attached.',
  recordVoice: 'Record a voice message',
  stopRecording: 'Stop and send the voice message',
  cancelRecording: 'Cancel recording',
  recording: 'Recording…',
  micDenied: 'Microphone access was denied. Allow it in your browser to send voice messages.',
  micUnsupported: 'This browser cannot record voice messages.',
  micUnavailable: 'No microphone was found.',
  voiceMessage: 'Voice message',
  image: 'Image',
  openImage: 'Open image full size',
  closeImage: 'Close image',
  loadingAttachment: 'Loading…',
  attachmentFailed: 'Could not load the attachment.',
  prechatIntro: 'Tell us a little about yourself and we will get back to you.',
  name: 'Your name',
  email: 'Email (optional)',
  emailHint: 'To get replies by email',
  firstMessage: 'How can we help?',
  startChat: 'Start chat',
  nameRequired: 'Please enter your name.',
  emailInvalid: 'Please enter a valid email address or leave it empty.',
  messageRequired: 'Please write a message.',
  waiting: 'Waiting for an operator…',
  queuePosition: 'Your place in the queue: {n}',
  joined: '{name} joined the chat',
  typing: '{name} is typing…',
  someoneTyping: 'Support is typing…',
  ended: 'This chat has ended.',
  startAgain: 'Write a message to start a new chat.',
  loading: 'Loading…',
  loadFailed: 'The chat could not be loaded.',
  tryAgain: 'Try again',
  empty: 'Ask us anything, we usually reply within a few minutes.',
  newMessageFrom: 'New message from {name}: {text}',
  sendError: 'The message could not be sent: {reason}',
  tooLong: 'The message is too long.',
  linkSpent: 'This link from your email was already used. Write below to start a new chat.',
  linkExpired: 'This link from your email has expired. Write below to start a new chat.',
  linkInvalid: 'This link is not valid. Write below to start a new chat.',
} as const;

export type MessageKey = keyof typeof en;
export type Dictionary = Record<MessageKey, string>;

/** The widget's language: the host page's setting, else the browser's, else English. */
export function pickLang(setting: Lang | undefined, browserLanguages: readonly string[]): Lang {
  if (setting) return setting;
  for (const tag of browserLanguages) {
    const base = tag.toLowerCase().split('-')[0];
    if (base === 'zh' || base === 'ru' || base === 'en') return base;
  }
  return 'en';
}

/** BCP 47 tag for Intl formatting and the document's lang attribute. */
export const localeTag: Record<Lang, string> = { en: 'en', zh: 'zh-CN', ru: 'ru' };

export type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

export function translator(dictionary: Dictionary): Translate {
  return (key, params) => {
    const text = dictionary[key];
    if (!params) return text;
    return text.replace(/\{(\w+)\}/g, (whole, name: string) =>
      name in params ? String(params[name]) : whole,
    );
  };
}

const loaders: Record<Exclude<Lang, 'en'>, () => Promise<{ default: Dictionary }>> = {
  zh: () => import('./i18n/zh.ts'),
  ru: () => import('./i18n/ru.ts'),
};

/** The dictionary of a language; English when that language's module cannot be downloaded. */
export async function loadDictionary(lang: Lang): Promise<Dictionary> {
  if (lang === 'en') return en;
  try {
    return (await loaders[lang]()).default;
  } catch (error) {
    console.warn(`[parley] could not load the ${lang} strings, showing English`, error);
    return en;
  }
}

export { en };
