/**
 * Every string the widget shows, in English, Chinese and Russian. The zh and ru dictionaries are
 * typed against the English keys, so a missing translation does not compile. They live in their own
 * modules and are downloaded only when that language is active. English is split in two: what the
 * closed widget says (title, screen-reader announcements, send errors) is always in the bundle,
 * as the fallback and what shows before the host page's settings arrive; the panel's English
 * (i18n/en-panel.ts, the email-link notice included) comes with the panel when it first opens.
 */
import type enPanel from './i18n/en-panel.ts';

export type Lang = 'en' | 'zh' | 'ru';

/** What the closed widget says; every other key is the panel's. */
const en = {
  title: 'Chat with us',
  offline: 'Offline',
  operator: 'Support',
  uploadFailed: 'The file could not be uploaded.',
  voiceMessage: 'Voice message',
  image: 'Image',
  joined: '{name} joined the chat',
  ended: 'This chat has ended.',
  newMessageFrom: 'New message from {name}: {text}',
  sendError: 'The message could not be sent: {reason}',
} as const;

/** A key the closed widget uses (its strings are in the first load in every language). */
export type CoreKey = keyof typeof en;
export type MessageKey = CoreKey | keyof typeof enPanel;
export type Dictionary = Record<MessageKey, string>;
export type CoreDictionary = Record<CoreKey, string>;

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
/** A translator for the closed widget (before the panel and its English strings are loaded). */
export type CoreTranslate = (key: CoreKey, params?: Record<string, string | number>) => string;

export function translator(dictionary: Dictionary): Translate;
export function translator(dictionary: CoreDictionary): CoreTranslate;
export function translator(dictionary: CoreDictionary | Dictionary): Translate {
  // The overloads pair each dictionary with the keys it has.
  const strings = dictionary as Dictionary;
  return (key, params) => {
    const text = strings[key];
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

/** Every string of English: the closed widget's and the panel's. */
async function fullEnglish(): Promise<Dictionary> {
  return { ...en, ...(await import('./i18n/en-panel.ts')).default };
}

/**
 * What the closed widget needs in a language: English's own part at once (no download), zh and
 * ru whole (one download); English when that language's module cannot be downloaded.
 */
export async function loadCoreDictionary(lang: Lang): Promise<CoreDictionary> {
  if (lang === 'en') return en;
  return loadDictionary(lang);
}

/**
 * Every string of a language, for the panel (zh and ru are the module loadCoreDictionary already
 * fetched); English when that language's module cannot be downloaded.
 */
export async function loadDictionary(lang: Lang): Promise<Dictionary> {
  if (lang === 'en') return fullEnglish();
  try {
    return (await loaders[lang]()).default;
  } catch (error) {
    console.warn(`[parley] could not load the ${lang} strings, showing English`, error);
    return fullEnglish();
  }
}

export { en };
