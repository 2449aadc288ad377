/**
 * Every string the widget shows, in English, Chinese and Russian. The zh and ru dictionaries are
 * typed against the English keys, so a missing translation does not compile.
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
} as const;

export type MessageKey = keyof typeof en;
type Dictionary = Record<MessageKey, string>;

const zh: Dictionary = {
  title: '在线咨询',
  close: '关闭聊天',
  connected: '已连接',
  connecting: '正在连接…',
  polling: '已连接(受限)',
  offline: '离线',
  muteSound: '关闭提示音',
  unmuteSound: '开启提示音',
  messages: '消息',
  you: '我',
  operator: '客服',
  system: '通知',
  newMessages: '新消息',
  earlier: '查看更早的消息',
  inputLabel: '您的消息',
  inputPlaceholder: '输入消息…',
  send: '发送消息',
  sending: '发送中…',
  queued: '恢复联网后发送',
  failed: '发送失败',
  retry: '重试',
  attachImage: '添加图片',
  removeImage: '移除图片',
  uploading: '上传中…',
  uploadFailed: '文件上传失败。',
  imageTooBig: '图片过大(最大 10 MB)。',
  notAnImage: '只能添加图片。',
  recordVoice: '录制语音消息',
  stopRecording: '停止并发送语音消息',
  cancelRecording: '取消录音',
  recording: '录音中…',
  micDenied: '麦克风权限被拒绝。请在浏览器中允许访问麦克风以发送语音消息。',
  micUnsupported: '此浏览器无法录制语音消息。',
  micUnavailable: '未找到麦克风。',
  voiceMessage: '语音消息',
  image: '图片',
  openImage: '查看原图',
  closeImage: '关闭图片',
  loadingAttachment: '加载中…',
  attachmentFailed: '附件加载失败。',
  prechatIntro: '请简单介绍一下您自己,我们会尽快回复。',
  name: '您的姓名',
  email: '邮箱(选填)',
  emailHint: '用于通过邮件接收回复',
  firstMessage: '有什么可以帮您?',
  startChat: '开始聊天',
  nameRequired: '请输入您的姓名。',
  emailInvalid: '请输入有效的邮箱地址,或留空。',
  messageRequired: '请输入消息。',
  waiting: '正在等待客服…',
  queuePosition: '您的排队位置:第 {n} 位',
  joined: '{name} 已加入聊天',
  typing: '{name} 正在输入…',
  someoneTyping: '客服正在输入…',
  ended: '本次聊天已结束。',
  startAgain: '发送消息即可开始新的聊天。',
  loading: '加载中…',
  loadFailed: '聊天加载失败。',
  tryAgain: '重试',
  empty: '有任何问题都可以问我们,通常几分钟内回复。',
  newMessageFrom: '{name} 发来新消息:{text}',
  sendError: '消息发送失败:{reason}',
  tooLong: '消息过长。',
};

const ru: Dictionary = {
  title: 'Напишите нам',
  close: 'Закрыть чат',
  connected: 'Подключено',
  connecting: 'Подключение…',
  polling: 'Подключено (ограниченно)',
  offline: 'Нет соединения',
  muteSound: 'Выключить звук уведомлений',
  unmuteSound: 'Включить звук уведомлений',
  messages: 'Сообщения',
  you: 'Вы',
  operator: 'Поддержка',
  system: 'Уведомление',
  newMessages: 'Новые сообщения',
  earlier: 'Показать более ранние сообщения',
  inputLabel: 'Ваше сообщение',
  inputPlaceholder: 'Напишите сообщение…',
  send: 'Отправить сообщение',
  sending: 'Отправка…',
  queued: 'Будет отправлено при подключении',
  failed: 'Не отправлено',
  retry: 'Повторить',
  attachImage: 'Прикрепить изображение',
  removeImage: 'Убрать изображение',
  uploading: 'Загрузка…',
  uploadFailed: 'Не удалось загрузить файл.',
  imageTooBig: 'Изображение слишком большое (максимум 10 МБ).',
  notAnImage: 'Можно прикрепить только изображение.',
  recordVoice: 'Записать голосовое сообщение',
  stopRecording: 'Остановить и отправить голосовое сообщение',
  cancelRecording: 'Отменить запись',
  recording: 'Идёт запись…',
  micDenied:
    'Доступ к микрофону запрещён. Разрешите его в браузере, чтобы отправлять голосовые сообщения.',
  micUnsupported: 'Этот браузер не умеет записывать голосовые сообщения.',
  micUnavailable: 'Микрофон не найден.',
  voiceMessage: 'Голосовое сообщение',
  image: 'Изображение',
  openImage: 'Открыть изображение целиком',
  closeImage: 'Закрыть изображение',
  loadingAttachment: 'Загрузка…',
  attachmentFailed: 'Не удалось загрузить вложение.',
  prechatIntro: 'Расскажите немного о себе, и мы ответим вам.',
  name: 'Ваше имя',
  email: 'Эл. почта (необязательно)',
  emailHint: 'Чтобы получать ответы на почту',
  firstMessage: 'Чем мы можем помочь?',
  startChat: 'Начать чат',
  nameRequired: 'Пожалуйста, укажите имя.',
  emailInvalid: 'Укажите корректный адрес почты или оставьте поле пустым.',
  messageRequired: 'Пожалуйста, напишите сообщение.',
  waiting: 'Ожидание оператора…',
  queuePosition: 'Ваше место в очереди: {n}',
  joined: '{name} присоединился к чату',
  typing: '{name} печатает…',
  someoneTyping: 'Поддержка печатает…',
  ended: 'Чат завершён.',
  startAgain: 'Напишите сообщение, чтобы начать новый чат.',
  loading: 'Загрузка…',
  loadFailed: 'Не удалось загрузить чат.',
  tryAgain: 'Повторить',
  empty: 'Спросите нас о чём угодно, обычно мы отвечаем за несколько минут.',
  newMessageFrom: 'Новое сообщение от {name}: {text}',
  sendError: 'Не удалось отправить сообщение: {reason}',
  tooLong: 'Сообщение слишком длинное.',
};

const dictionaries: Record<Lang, Dictionary> = { en, zh, ru };

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

export function translator(lang: Lang): Translate {
  const dictionary = dictionaries[lang];
  return (key, params) => {
    const text = dictionary[key];
    if (!params) return text;
    return text.replace(/\{(\w+)\}/g, (whole, name: string) =>
      name in params ? String(params[name]) : whole,
    );
  };
}

export { dictionaries };
