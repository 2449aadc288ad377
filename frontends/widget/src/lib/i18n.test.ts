import { describe, expect, test } from 'vitest';
import { en, loadCoreDictionary, loadDictionary, pickLang, translator } from './i18n.ts';

describe('widget translations', () => {
  test('zh and ru translate every key, with no English words left', async () => {
    const english = await loadDictionary('en');
    for (const lang of ['zh', 'ru'] as const) {
      const dictionary = await loadDictionary(lang);
      expect(Object.keys(dictionary).sort(), lang).toEqual(Object.keys(english).sort());
      for (const [key, text] of Object.entries(dictionary)) {
        expect(text, `${lang}.${key}`).not.toBe('');
        expect(text, `${lang}.${key}`).not.toBe(english[key as keyof typeof english]);
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

  test("the closed widget's strings need no download in English; the panel's come whole", async () => {
    const core = await loadCoreDictionary('en');
    expect(core).toBe(en);
    const english = await loadDictionary('en');
    expect(english).toMatchObject(en);
    expect(Object.keys(english).length).toBeGreaterThan(Object.keys(en).length);
    expect(translator(english)('eventJoined', { name: 'Anna' })).toBe('Anna joined the chat');
    expect(await loadCoreDictionary('zh')).toBe(await loadDictionary('zh'));
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
