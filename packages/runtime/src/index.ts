export * from './config.ts';
export * from './logger.ts';
export * from './metrics.ts';
export * from './bus.ts';
export * from './ops.ts';
export * from './lifecycle.ts';
export * from './tokens.ts';
export * from './validation.ts';
