import { createLogger, runService, type Lifecycle } from '@parley/runtime';
import { readConfig } from './config.ts';
import { start } from './main.ts';

const config = readConfig();
const logger = createLogger('routing', config.LOG_LEVEL);
const lifecycle: Lifecycle = { shuttingDown: false };

runService({
  name: 'routing',
  logger,
  lifecycle,
  timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  start: () => start(config, logger, lifecycle),
});
