import { ConfigError, createLogger, runService, type Lifecycle } from '@parley/runtime';
import { readConfig, type ChatConfig } from './config.ts';
import { startChatService } from './main.ts';

let config: ChatConfig;
try {
  config = readConfig();
} catch (e) {
  if (!(e instanceof ConfigError)) throw e;
  console.error(e.message);
  process.exit(1);
}
const logger = createLogger('chat', config.LOG_LEVEL);
const lifecycle: Lifecycle = { shuttingDown: false };

runService({
  name: 'chat',
  logger,
  lifecycle,
  timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  start: () => startChatService(config, logger, lifecycle),
});
