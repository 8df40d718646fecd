import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Interrupted, Shutdown } from '../src/shutdown.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A Shutdown whose exit and messages are recorded instead of ending this test process. */
function recorded(options: { graceMs?: number; hookTimeoutMs?: number } = {}) {
  const lines: string[] = [];
  const exits: number[] = [];
  let exited!: () => void;
  const done = new Promise<void>((r) => (exited = r));
  const shutdown = new Shutdown({
    what: 'test work',
    ...options,
    log: (l) => lines.push(l),
    exit: (code) => {
      exits.push(code);
      exited();
    },
  }).install();
  return { shutdown, lines, exits, done };
}

describe('shutdown hooks (SIGINT, SIGTERM)', () => {
  it('lets the work finish, then runs the hooks last-registered first, and exits with the work’s code', async () => {
    const { shutdown, lines, exits, done } = recorded({ graceMs: 2000 });
    const order: string[] = [];
    shutdown.onStop(() => order.push('stop database'));
    shutdown.onStop(async () => {
      await sleep(10);
      order.push('close pool');
    });
    const work = shutdown.track(
      (async () => {
        await sleep(50);
        order.push('work done');
        return 0;
      })(),
    );
    process.emit('SIGTERM', 'SIGTERM');
    assert.ok(shutdown.signal.aborted);
    assert.ok(shutdown.signal.reason instanceof Interrupted);
    await done;
    shutdown.dispose();
    assert.equal(await work, 0);
    assert.deepEqual(order, ['work done', 'close pool', 'stop database']);
    assert.deepEqual(exits, [0]);
    assert.match(
      lines[0]!,
      /^Stopping test work \(SIGTERM\): finishing the current step for up to 2 s; SIGTERM again/,
    );
    assert.equal(lines.at(-1), 'Stopped.');
  });

  it('abandons work that outlasts the grace period: exit 128 + signal number', async () => {
    const { shutdown, lines, exits, done } = recorded({ graceMs: 30 });
    let closed = false;
    shutdown.onStop(() => (closed = true));
    void shutdown.track(new Promise(() => undefined)); // never settles
    process.emit('SIGINT', 'SIGINT');
    await done;
    shutdown.dispose();
    assert.ok(closed);
    assert.deepEqual(exits, [130]);
    assert.match(lines[0]!, /Ctrl-C again stops at once/);
    assert.equal(lines.at(-1), 'Stopped before the end; run the command again to complete it.');
  });

  it('a hook that hangs is cut off after its time limit; the next hooks still run', async () => {
    const { shutdown, lines, exits, done } = recorded({ graceMs: 10, hookTimeoutMs: 30 });
    let stopped = false;
    shutdown.onStop(() => (stopped = true));
    shutdown.onStop(() => new Promise(() => undefined));
    process.emit('SIGTERM', 'SIGTERM');
    await done;
    shutdown.dispose();
    assert.ok(stopped);
    assert.deepEqual(exits, [143]);
    assert.ok(lines.includes('While stopping: took over 30 ms'), lines.join('\n'));
  });

  it('a second signal exits at once', async () => {
    const { shutdown, lines, exits } = recorded({ graceMs: 300 });
    void shutdown.track(new Promise(() => undefined));
    process.emit('SIGINT', 'SIGINT');
    process.emit('SIGINT', 'SIGINT');
    shutdown.dispose();
    assert.deepEqual(exits, [130]);
    assert.equal(lines.at(-1), 'SIGINT again: stopping at once.');
  });
});
