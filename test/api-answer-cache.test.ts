import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { TtlCache } from '../src/api/cache.ts';

describe('the API answer cache', () => {
  it('requests arriving while an answer loads share that one load', async () => {
    const cache = new TtlCache<number>(60_000);
    let loads = 0;
    const load = async () => {
      loads++;
      await sleep(20);
      return 42;
    };
    const answers = await Promise.all(Array.from({ length: 50 }, () => cache.get('k', load)));
    assert.deepEqual([loads, new Set(answers).size, answers[0]], [1, 1, 42]);
  });

  it('a failed load is not kept: the next request loads again', async () => {
    const cache = new TtlCache<number>(60_000);
    await assert.rejects(
      cache.get('k', async () => {
        throw new Error('database down');
      }),
      /database down/,
    );
    assert.equal(await cache.get('k', async () => 7), 7);
  });

  it('an expired answer is loaded again; a ttl of 0 keeps nothing', async () => {
    const short = new TtlCache<number>(10);
    await short.get('k', async () => 1);
    await sleep(25);
    assert.equal(await short.get('k', async () => 2), 2);
    const off = new TtlCache<number>(0);
    await off.get('k', async () => 1);
    assert.equal(await off.get('k', async () => 2), 2);
  });
});
