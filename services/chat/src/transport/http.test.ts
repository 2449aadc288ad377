import { existsSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sweepIncoming } from './http.ts';

describe('sweepIncoming', () => {
  it('removes only staged uploads older than the limit', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-incoming-'));
    const old = path.join(dir, 'upload-old');
    const fresh = path.join(dir, 'upload-fresh');
    const other = path.join(dir, 'keep.txt');
    for (const f of [old, fresh, other]) writeFileSync(f, 'x');
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    utimesSync(old, twoHoursAgo, twoHoursAgo);
    utimesSync(other, twoHoursAgo, twoHoursAgo);
    expect(await sweepIncoming(dir, 3_600_000)).toBe(1);
    expect([existsSync(old), existsSync(fresh), existsSync(other)]).toEqual([false, true, true]);
    expect(await sweepIncoming(path.join(dir, 'missing'), 1)).toBe(0);
  });
});
