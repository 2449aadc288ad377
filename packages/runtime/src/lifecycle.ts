import type { Logger } from './logger.ts';
import type { Lifecycle } from './ops.ts';

export interface RunningService {
  /** Stop taking work, finish what is in flight, close connections. */
  stop(): Promise<void>;
}

/**
 * Owns the process: starts the service, turns SIGTERM/SIGINT into an ordered stop within a
 * hard timeout, and exits non-zero on a fatal error. Used by every service's src/index.ts.
 */
export function runService(opts: {
  name: string;
  logger: Logger;
  lifecycle: Lifecycle;
  timeoutMs: number;
  start: () => Promise<RunningService>;
}): void {
  const { logger, lifecycle } = opts;
  let running: RunningService | undefined;
  let stopping = false;

  const shutdown = async (reason: string, code: number) => {
    if (stopping) return;
    stopping = true;
    lifecycle.shuttingDown = true;
    logger.info({ reason }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs: opts.timeoutMs }, 'shutdown timed out, exiting');
      process.exit(code || 1);
    }, opts.timeoutMs);
    timer.unref();
    try {
      await running?.stop();
      logger.info('stopped');
    } catch (err) {
      logger.error({ err }, 'error during shutdown');
      code ||= 1;
    }
    clearTimeout(timer);
    logger.flush?.();
    process.exit(code);
  };

  process.on('SIGTERM', () => void shutdown('SIGTERM', 0));
  process.on('SIGINT', () => void shutdown('SIGINT', 0));
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception');
    void shutdown('uncaughtException', 1);
  });
  process.on('unhandledRejection', (err) => {
    logger.fatal({ err }, 'unhandled rejection');
    void shutdown('unhandledRejection', 1);
  });

  opts
    .start()
    .then((svc) => {
      running = svc;
      logger.info(`${opts.name} started`);
      if (stopping) void svc.stop();
    })
    .catch((err: unknown) => {
      logger.fatal({ err }, `${opts.name} failed to start`);
      if (err instanceof Error && err.name === 'ConfigError') console.error(err.message);
      process.exit(1);
    });
}
