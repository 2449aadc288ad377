import { describe, expect, it } from 'vitest';
import { AppError } from '@parley/contracts/errors';
import { ChatId, OperatorId, UserId } from '@parley/contracts/models';
import { ChatAccess } from './access.ts';
import type { Principal } from './identity.ts';

const chat = ChatId.parse('0b6f3c1e-8a52-4c1e-9f59-2b7d8f7c1a01');
const unknownChat = ChatId.parse('0b6f3c1e-8a52-4c1e-9f59-2b7d8f7c1a02');
const owner = UserId.parse('v_owner');

const visitor = (id: string): Principal => ({
  kind: 'visitor',
  user_id: UserId.parse(id),
  identified: false,
  name: null,
  email: null,
  jti: 'j',
  exp: 0,
});
const operator: Principal = {
  kind: 'operator',
  operator_id: OperatorId.parse('7d3f0a4e-1c2b-4d5e-8f90-a1b2c3d4e5f6'),
  role: 'agent',
  name: 'Op',
  email: 'op@example.com',
  jti: 'j',
  exp: 0,
};

describe('ChatAccess', () => {
  it('lets the owner and operators in, and answers foreign and unknown chats alike', async () => {
    let lookups = 0;
    const access = new ChatAccess(async (id) => {
      lookups++;
      return id === chat ? owner : null;
    });
    expect(await access.canAccess(visitor('v_owner'), chat)).toBe(true);
    expect(await access.canAccess(operator, chat)).toBe(true);
    expect(await access.canAccess(visitor('v_other'), chat)).toBe(false);
    expect(await access.canAccess(operator, unknownChat)).toBe(false);
    const foreign = await access.assertAccess(visitor('v_other'), chat).catch((e: unknown) => e);
    const unknown = await access
      .assertAccess(visitor('v_other'), unknownChat)
      .catch((e: unknown) => e);
    expect(foreign).toBeInstanceOf(AppError);
    expect((foreign as AppError).toBody()).toEqual((unknown as AppError).toBody());
    // Owners never change: the known chat was looked up once.
    expect(lookups).toBe(1 + 2);
  });
});
