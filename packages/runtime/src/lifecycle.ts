import { ConfigError, type BaseConfig } from './config.ts';
import { createLogger, type Logger } from './logger.ts';
import type { Lifecycle } from './ops.ts';

export interface RunningService {
  /** Stop taking work, finish what is in flight, close connections. */
  stop(): Promise<void>;
}

/** What every service's main.ts exports as `start`. */
export type StartService<C extends BaseConfig> = (
  config: C,
  logger: Logger,
  lifecycle: Lifecycle,
) => Promise<RunningService>;

/**
 * Owns the process: reads the config (a ConfigError prints every bad key and exits 1), starts
 * the service, turns SIGTERM/SIGINT into an ordered stop within SHUTDOWN_TIMEOUT_MS, and exits
 * non-zero on a fatal error. Every service's src/index.ts is one call of it.
 */
export function runService<C extends BaseConfig>(opts: {
  name: string;
  readConfig: () => C;
  start: StartService<C>;
}): void {
  let config: C;
  try {
    config = opts.readConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    process.exit(1);
  }
  const logger = createLogger(opts.name, config.LOG_LEVEL);
  const lifecycle: Lifecycle = { shuttingDown: false };
  const timeoutMs = config.SHUTDOWN_TIMEOUT_MS;
  let running: RunningService | undefined;
  let stopping = false;

  const shutdown = async (reason: string, code: number) => {
    if (stopping) return;
    stopping = true;
    lifecycle.shuttingDown = true;
    logger.info({ reason }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs }, 'shutdown timed out, exiting');
      process.exit(code || 1);
    }, timeoutMs);
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
    .start(config, logger, lifecycle)
    .then((svc) => {
      running = svc;
      logger.info(`${opts.name} started`);
      if (stopping) void svc.stop();
    })
    .catch((err: unknown) => {
      logger.fatal({ err }, `${opts.name} failed to start`);
      // Secrets resolved inside start (resolveSecret) also throw ConfigError.
      if (err instanceof ConfigError) console.error(err.message);
      process.exit(1);
    });
}
