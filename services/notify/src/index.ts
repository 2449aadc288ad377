import { createLogger, runService, type Lifecycle } from '@parley/runtime';
import { readConfig } from './config.ts';
import { startNotifyService } from './main.ts';

const config = readConfig();
const logger = createLogger('notify', config.LOG_LEVEL);
const lifecycle: Lifecycle = { shuttingDown: false };

runService({
  name: 'notify',
  logger,
  lifecycle,
  timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  start: () => startNotifyService(config, logger, lifecycle),
});
