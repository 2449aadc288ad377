import { describe, expect, it } from 'vitest';
import type { OperatorId, UserId } from '@parley/contracts';
import { actorRights } from './routing.ts';

describe('actorRights', () => {
  it('gives admins and the system admin rights, agents and visitors none', () => {
    const operator = { kind: 'operator', operator_id: 'op-1' as OperatorId, name: 'Anna' } as const;
    expect(actorRights({ ...operator, role: 'admin' })).toEqual({
      kind: 'operator',
      id: 'op-1',
      isAdmin: true,
      name: 'Anna',
    });
    expect(actorRights({ ...operator, role: 'agent' })).toMatchObject({ isAdmin: false });
    expect(actorRights({ kind: 'visitor', user_id: 'v_1' as UserId })).toEqual({
      kind: 'visitor',
      id: 'v_1',
      isAdmin: false,
      name: '',
    });
    expect(actorRights({ kind: 'system' })).toEqual({
      kind: 'system',
      id: '',
      isAdmin: true,
      name: '',
    });
  });
});
