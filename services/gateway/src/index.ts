import { ConfigError, createLogger, runService, type Lifecycle } from '@parley/runtime';
import { readConfig, type GatewayConfig } from './config.ts';
import { startGateway } from './main.ts';

let cfg: GatewayConfig;
try {
  cfg = readConfig(process.env);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message);
  process.exit(1);
}
const logger = createLogger('gateway', cfg.LOG_LEVEL);
const lifecycle: Lifecycle = { shuttingDown: false };

runService({
  name: 'gateway',
  logger,
  lifecycle,
  timeoutMs: cfg.SHUTDOWN_TIMEOUT_MS,
  start: () => startGateway(cfg, logger, lifecycle),
});
