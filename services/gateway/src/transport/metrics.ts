// Moved to src/metrics.ts (one metrics.ts per service); kept so transport/ws.ts resolves it.
export type { GatewayMetrics } from '../metrics.ts';
