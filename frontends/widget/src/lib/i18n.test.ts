import { describe, expect, test } from 'vitest';
import { en, loadDictionary, pickLang, translator } from './i18n.ts';

describe('widget translations', () => {
  test('zh and ru translate every key, with no English words left', async () => {
    for (const lang of ['zh', 'ru'] as const) {
      const dictionary = await loadDictionary(lang);
      expect(Object.keys(dictionary).sort(), lang).toEqual(Object.keys(en).sort());
      for (const [key, text] of Object.entries(dictionary)) {
        expect(text, `${lang}.${key}`).not.toBe('');
        expect(text, `${lang}.${key}`).not.toBe(en[key as keyof typeof en]);
        // Placeholders and the unit "MB" are the only Latin letters allowed.
        const latin = text.replace(/\{\w+\}/g, '').replace(/\bMB\b/g, '');
        expect(latin, `${lang}.${key}`).not.toMatch(/[A-Za-z]/);
      }
    }
  });

  test('Chinese uses full-width punctuation', async () => {
    const zh = await loadDictionary('zh');
    for (const [key, text] of Object.entries(zh)) {
      expect(text.replace(/\{\w+\}/g, ''), `zh.${key}`).not.toMatch(/[,()?:;!]/);
    }
  });

  test('placeholders survive translation', async () => {
    for (const lang of ['en', 'zh', 'ru'] as const) {
      const t = translator(await loadDictionary(lang));
      expect(t('typing', { name: 'Anna' })).toContain('Anna');
      expect(t('queuePosition', { n: 3 })).toContain('3');
    }
  });

  test('the page setting wins, then the browser languages, then English', () => {
    expect(pickLang('ru', ['zh-CN'])).toBe('ru');
    expect(pickLang(undefined, ['de-DE', 'zh-TW', 'en'])).toBe('zh');
    expect(pickLang(undefined, ['ru-RU'])).toBe('ru');
    expect(pickLang(undefined, ['de-DE', 'fr'])).toBe('en');
  });
});
