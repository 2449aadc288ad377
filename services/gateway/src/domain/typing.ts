/**
 * At most one typing signal per sender and chat per window (seed 001), so a fast typist
 * does not flood every subscriber on every keystroke.
 */
export class TypingThrottle {
  private readonly last = new Map<string, number>();
  private readonly windowMs: number;

  constructor(windowMs: number) {
    this.windowMs = windowMs;
  }

  allow(senderId: string, chatId: string, now = Date.now()): boolean {
    const key = `${senderId} ${chatId}`;
    const previous = this.last.get(key);
    if (previous !== undefined && now - previous < this.windowMs) return false;
    this.last.set(key, now);
    return true;
  }

  /** Forgets entries older than the window (called periodically). */
  prune(now = Date.now()): void {
    for (const [key, at] of this.last) if (now - at >= this.windowMs) this.last.delete(key);
  }
}
