import type http from 'node:http';
import { describe, expect, it } from 'vitest';
import { clientIp } from './origin.ts';

const request = (remoteAddress: string, forwardedFor?: string) =>
  ({
    socket: { remoteAddress },
    headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
  }) as unknown as http.IncomingMessage;

describe('client address', () => {
  it('ignores X-Forwarded-For when no proxy is trusted', () => {
    expect(clientIp(request('10.0.0.5', '6.6.6.6'), 0)).toBe('10.0.0.5');
  });

  it('takes the entry that many hops from the right, never one the client wrote further left', () => {
    // The client sent "6.6.6.6"; the one trusted proxy appended the address it saw.
    expect(clientIp(request('10.0.0.2', '6.6.6.6, 203.0.113.9'), 1)).toBe('203.0.113.9');
    expect(clientIp(request('10.0.0.2', '6.6.6.6, 203.0.113.9, 10.0.0.3'), 2)).toBe('203.0.113.9');
    expect(clientIp(request('10.0.0.2'), 1)).toBe('10.0.0.2');
    // Fewer entries than trusted hops: the leftmost there is.
    expect(clientIp(request('10.0.0.2', '203.0.113.9'), 3)).toBe('203.0.113.9');
  });
});
