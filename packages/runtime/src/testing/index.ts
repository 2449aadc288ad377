/**
 * Test infrastructure shared by every suite: real processes on free ports and event-based waits
 * (processes.ts), the whole product as one stack (stack.ts), typed REST/WebSocket clients
 * (api.ts), the headless browser (browser.ts) and an event collector to wait on (events.ts).
 */
export * from './processes.ts';
export * from './stack.ts';
export * from './api.ts';
export * from './browser.ts';
export * from './events.ts';
