/** Messages between the bench runner and its load-generator processes (over the fork IPC channel). */

export type TargetSpec =
  | { kind: 'relay'; wsUrls: string[] }
  | {
      kind: 'parley';
      httpUrl: string;
      /** WebSocket base URLs (ws://host:port), one per gateway; chats are spread over them. */
      wsUrls: string[];
      operatorEmail: string;
      operatorPassword: string;
    };

export interface SetupCommand {
  cmd: 'setup';
  target: TargetSpec;
  /** Chats this process opens. Each chat is one visitor connection (plus one operator connection when `operators`). */
  chats: number;
  /** false for the idle scenario: visitors only, holding their connection. */
  operators: boolean;
  /** Source address for every connection of this process (127.0.0.x), spreading ephemeral ports. */
  localAddress: string;
  /**
   * Parley: bench operators to create, each taking up to this many chats (routing assigns them);
   * 0 leaves every chat waiting in the queue with the admin watching.
   */
  chatsPerOperator: number;
  /** Application ping interval; Parley's welcome frame overrides it with its heartbeat_ms. */
  heartbeatMs: number;
  /** HTTP requests and WebSocket handshakes in flight at once during setup. */
  concurrency: number;
}

export interface LoadCommand {
  cmd: 'load';
  /** Messages per second this process sends, open loop (on schedule whatever the replies do). */
  rate: number;
  durationMs: number;
  /** After the last send, messages still missing when nothing has arrived for this long are lost. */
  drainMs: number;
  /** Hard cap on the wait after the last send. */
  maxDrainMs: number;
}

export type GeneratorCommand = SetupCommand | LoadCommand | { cmd: 'stats' } | { cmd: 'close' };

export interface SetupResult {
  connections: number;
  /** Parley: chats routing assigned to the bench operators. */
  assigned: number;
  setup_ms: number;
  /** HTTP requests retried after the server dropped a keep-alive socket. */
  retries: number;
}

export interface LoadResult {
  sent: number;
  received: number;
  duplicated: number;
  lost: number;
  /** Error frames and unexpected closes, by code. */
  errors: Record<string, number>;
  acks: number;
  /** From the last send until everything arrived or the drain gave up. */
  drain_ms: number;
  /** Messages of an earlier load that arrived during this one (not counted in it). */
  late_from_earlier_run: number;
  /** Latency histogram in microseconds, hdr-histogram compressed base64. */
  histogram: string;
  /** How late the generator itself was against its schedule (ms, worst): a sign it was the bottleneck. */
  max_schedule_lag_ms: number;
}

export interface GeneratorStats {
  pid: number;
  connections: number;
  rss: number;
  heap_used: number;
}

export interface GeneratorRequest {
  id: number;
  command: GeneratorCommand;
}

export type GeneratorReply =
  { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };
