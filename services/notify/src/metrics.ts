import { Counter, type Registry } from '@parley/runtime';

/** Notify's own metrics (Node's defaults come with the registry). */
export interface NotifyMetrics {
  eventsHandled: Counter<'event' | 'result'>;
  jobsStarted: Counter;
  jobsCompleted: Counter<'outcome'>;
}

export function createNotifyMetrics(registry: Registry): NotifyMetrics {
  return {
    eventsHandled: new Counter({
      name: 'notify_events_total',
      help: 'Chat events handled by the durable consumer, by event and result',
      labelNames: ['event', 'result'] as const,
      registers: [registry],
    }),
    jobsStarted: new Counter({
      name: 'notify_jobs_started_total',
      help: 'Unread-reply jobs started on this replica',
      registers: [registry],
    }),
    jobsCompleted: new Counter({
      name: 'notify_jobs_completed_total',
      help: 'Unread-reply jobs finished on this replica, by outcome (sent is the only one that emails)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
  };
}
