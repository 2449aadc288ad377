import { Counter, Gauge, Histogram, type Registry } from '@parley/runtime';

export interface GatewayMetrics {
  connections: Gauge;
  framesIn: Counter;
  framesOut: Counter;
  fanoutSeconds: Histogram;
}

export function createGatewayMetrics(registry: Registry): GatewayMetrics {
  return {
    connections: new Gauge({
      name: 'parley_gateway_ws_connections',
      help: 'Open WebSocket connections',
      labelNames: ['role'],
      registers: [registry],
    }),
    framesIn: new Counter({
      name: 'parley_gateway_ws_frames_in_total',
      help: 'WebSocket frames received, by frame type (invalid when unparseable)',
      labelNames: ['type'],
      registers: [registry],
    }),
    framesOut: new Counter({
      name: 'parley_gateway_ws_frames_out_total',
      help: 'WebSocket frames sent, by frame type',
      labelNames: ['type'],
      registers: [registry],
    }),
    fanoutSeconds: new Histogram({
      name: 'parley_gateway_fanout_seconds',
      help: 'Time from receiving a NATS event to handing its frames to every local connection',
      labelNames: ['subject'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
  };
}
