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

describe('the API answer cache is bounded', () => {
  it('expired answers are dropped when the next answer is stored, not kept up to the entry bound', async () => {
    let now = 0;
    const cache = new TtlCache<string>(1000, 1000, 1e9, () => now);
    for (let i = 0; i < 100; i++) await cache.get(`k${i}`, async () => 'x'.repeat(10));
    assert.deepEqual([cache.size, cache.bytes], [100, 1000]);
    now = 1001; // all 100 expired
    await cache.get('fresh', async () => 'y');
    assert.deepEqual([cache.size, cache.bytes], [1, 1]);
  });

  it('holds at most maxEntries answers and maxBytes bytes, dropping the oldest first', async () => {
    const byCount = new TtlCache<string>(60_000, 3, 1e9);
    for (const k of ['a', 'b', 'c', 'd']) await byCount.get(k, async () => k);
    assert.equal(byCount.size, 3);
    assert.equal(await byCount.get('a', async () => 'reloaded'), 'reloaded'); // 'a' was the oldest
    // 1,000-byte answers under a 2,500-byte bound: two fit.
    const byBytes = new TtlCache<string>(60_000, 100, 2500);
    for (const k of ['a', 'b', 'c']) await byBytes.get(k, async () => k.repeat(1000));
    await sleep(0);
    assert.deepEqual([byBytes.size, byBytes.bytes], [2, 2000]);
    // An answer larger than the whole bound is served but not kept.
    assert.equal((await byBytes.get('huge', async () => 'h'.repeat(3000))).length, 3000);
    await sleep(0);
    assert.ok(byBytes.bytes <= 2500);
  });
});
