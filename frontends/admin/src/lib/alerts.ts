import { t } from './strings.ts';

/** How an operator learns that a chat was assigned while looking elsewhere: a sound and a desktop notification. */

const DECLINED_KEY = 'parley.admin.notifications.declined';

let audio: AudioContext | null = null;

/** A short two-tone chime made with Web Audio (no sound file to ship or fetch). */
export function playChime(): void {
  try {
    audio ??= new AudioContext();
    const ctx = audio;
    const start = ctx.currentTime;
    for (const [i, freq] of [880, 1320].entries()) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, start + i * 0.15);
      gain.gain.exponentialRampToValueAtTime(0.2, start + i * 0.15 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + i * 0.15 + 0.3);
      osc.connect(gain).connect(ctx.destination);
      osc.start(start + i * 0.15);
      osc.stop(start + i * 0.15 + 0.32);
    }
  } catch (err) {
    // Browsers refuse audio before the first user gesture; the visual alerts still work.
    console.warn('chime not played', err);
  }
}

/** True when the console should offer (not force) desktop notifications. */
export function shouldOfferNotifications(): boolean {
  return (
    typeof Notification !== 'undefined' &&
    Notification.permission === 'default' &&
    localStorage.getItem(DECLINED_KEY) !== '1'
  );
}

export async function enableNotifications(): Promise<NotificationPermission> {
  return Notification.requestPermission();
}

export function declineNotifications(): void {
  localStorage.setItem(DECLINED_KEY, '1');
}

export function desktopNotify(title: string, body: string, onClick: () => void): void {
  if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
  // Only when the console is not in front: in front, the in-page alert is enough.
  if (document.visibilityState === 'visible' && document.hasFocus()) return;
  const n = new Notification(title, { body, tag: 'parley-assignment' });
  n.onclick = () => {
    window.focus();
    onClick();
    n.close();
  };
}

export function titleWithCount(count: number): string {
  return count > 0 ? `(${count}) ${t.consoleTitle}` : t.consoleTitle;
}
