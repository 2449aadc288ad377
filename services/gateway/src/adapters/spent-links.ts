import { Kvm, type KV } from '@nats-io/kv';
import { AppError } from '@parley/contracts/errors';
import { kvBuckets, type KvBucket } from '@parley/contracts/nats';
import type { Bus } from '@parley/runtime';

const BUCKET: KvBucket = 'parley_email_links';

/**
 * Spent email links in a NATS KV bucket: create-if-absent is atomic, so a link works once across
 * all gateway replicas. `spend` is true the first time, false once spent; NATS away is 503.
 */
export interface SpentLinks {
  spend(jti: string): Promise<boolean>;
}

export function createSpentLinks(bus: Bus, replicas: number): SpentLinks {
  let bucket: Promise<KV> | undefined;
  const open = () =>
    (bucket ??= new Kvm(bus.nc)
      .create(BUCKET, { ttl: kvBuckets[BUCKET].ttl_ms, replicas, history: 1 })
      .catch(() => {
        bucket = undefined;
        throw new AppError('unavailable', 'Link store is unavailable');
      }));
  return {
    async spend(jti) {
      const kv = await open();
      try {
        await kv.create(jti, new Date().toISOString());
        return true;
      } catch {
        const exists = await kv.get(jti).catch(() => null);
        if (exists && exists.operation === 'PUT') return false;
        throw new AppError('unavailable', 'Link store is unavailable');
      }
    },
  };
}
