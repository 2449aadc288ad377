import type { EventPayload, EventSubject } from '@parley/contracts/nats';

/**
 * Collects events from plain bus subscriptions and resolves waiters when a matching one arrives
 * (or has already arrived): tests wait on the event itself, never on a sleep.
 */
export class EventLog {
  readonly seen: Array<{ subject: EventSubject; payload: unknown }> = [];
  private waiters: Array<{
    test: (e: { subject: EventSubject; payload: unknown }) => boolean;
    resolve: (p: unknown) => void;
  }> = [];

  push(subject: EventSubject, payload: unknown): void {
    const event = { subject, payload };
    this.seen.push(event);
    this.waiters = this.waiters.filter((w) => {
      if (!w.test(event)) return true;
      w.resolve(payload);
      return false;
    });
  }

  next<S extends EventSubject>(
    subject: S,
    match: (p: EventPayload<S>) => boolean,
  ): Promise<EventPayload<S>> {
    const test = (e: { subject: EventSubject; payload: unknown }) =>
      e.subject === subject && match(e.payload as EventPayload<S>);
    const already = this.seen.find(test);
    if (already) return Promise.resolve(already.payload as EventPayload<S>);
    return new Promise((resolve) =>
      this.waiters.push({ test, resolve: resolve as (p: unknown) => void }),
    );
  }

  count<S extends EventSubject>(subject: S, match: (p: EventPayload<S>) => boolean): number {
    return this.seen.filter((e) => e.subject === subject && match(e.payload as EventPayload<S>))
      .length;
  }
}
