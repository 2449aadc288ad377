/**
 * The REST fallback while the socket cannot connect: runs `poll` now and then every interval
 * until stopped, and reports whether the last run reached the server.
 */
export class Poller {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #active = false;
  #poll: () => Promise<void>;
  #healthy: (healthy: boolean) => void;
  #intervalMs: number;

  constructor(poll: () => Promise<void>, healthy: (healthy: boolean) => void, intervalMs = 3000) {
    this.#poll = poll;
    this.#healthy = healthy;
    this.#intervalMs = intervalMs;
  }

  get active(): boolean {
    return this.#active;
  }

  set active(active: boolean) {
    if (active === this.#active) return;
    this.#active = active;
    clearTimeout(this.#timer);
    if (active) this.#schedule(0);
    else this.#healthy(false);
  }

  #schedule(delay: number) {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#run(), delay);
  }

  async #run() {
    if (!this.#active) return;
    try {
      await this.#poll();
      this.#healthy(true);
    } catch {
      this.#healthy(false);
    }
    if (this.#active) this.#schedule(this.#intervalMs);
  }
}
