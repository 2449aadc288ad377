import { describe, expect, test } from 'vitest';
import { dictionaries, pickLang, translator } from './i18n.ts';

describe('widget translations', () => {
  test('zh and ru translate every key, with no English words left', () => {
    for (const lang of ['zh', 'ru'] as const) {
      for (const [key, text] of Object.entries(dictionaries[lang])) {
        expect(text, `${lang}.${key}`).not.toBe('');
        expect(text, `${lang}.${key}`).not.toBe(
          dictionaries.en[key as keyof typeof dictionaries.en],
        );
        // Placeholders and the unit "MB" are the only Latin letters allowed.
        const latin = text.replace(/\{\w+\}/g, '').replace(/\bMB\b/g, '');
        expect(latin, `${lang}.${key}`).not.toMatch(/[A-Za-z]/);
      }
    }
  });

  test('placeholders survive translation', () => {
    for (const lang of ['en', 'zh', 'ru'] as const) {
      expect(translator(lang)('typing', { name: 'Anna' })).toContain('Anna');
      expect(translator(lang)('queuePosition', { n: 3 })).toContain('3');
    }
  });

  test('the page setting wins, then the browser languages, then English', () => {
    expect(pickLang('ru', ['zh-CN'])).toBe('ru');
    expect(pickLang(undefined, ['de-DE', 'zh-TW', 'en'])).toBe('zh');
    expect(pickLang(undefined, ['ru-RU'])).toBe('ru');
    expect(pickLang(undefined, ['de-DE', 'fr'])).toBe('en');
  });
});
