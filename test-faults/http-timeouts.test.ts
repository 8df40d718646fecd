/**
 * Slow and idle clients against a real `serve` process: sockets that send part of a request's
 * headers and stop, sockets that send nothing, a kept-alive connection left idle, and more sockets
 * than the configured cap. The idle ones are closed by the server within their timeouts, sockets
 * beyond the cap are closed at once, and new clients are served throughout or as soon as room is
 * made; the process never exits. (Before issue 23 such sockets stayed open for ever: 20 of them were
 * still open after 320 s.)
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestDb, type TestDb } from '../test/helpers/db.ts';
import { call, startApi, type Api } from './helpers/stack.ts';

let t: TestDb;
let api: Api;
const HEADERS_TIMEOUT_MS = 1500;
const KEEPALIVE_TIMEOUT_MS = 1000;
const MAX_CONNECTIONS = 30;

before(async () => {
  t = await createTestDb();
  api = await startApi({
    DATABASE_URL: t.url,
    FU_LOG_LEVEL: 'error',
    FU_HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
    FU_HTTP_REQUEST_TIMEOUT_MS: '3000',
    FU_HTTP_KEEPALIVE_TIMEOUT_MS: String(KEEPALIVE_TIMEOUT_MS),
    FU_HTTP_IDLE_TIMEOUT_MS: '20000',
    FU_HTTP_MAX_CONNECTIONS: String(MAX_CONNECTIONS),
  });
});
after(async () => {
  await api?.stop();
  await t?.close();
});

interface Idle {
  socket: net.Socket;
  /** ms after opening at which the server closed it, or undefined while open. */
  closedAfter: number | undefined;
}

/** Opens a socket to the API that writes `text` (maybe nothing) and then stays silent. */
async function idleSocket(text: string): Promise<Idle> {
  const { port } = new URL(api.base);
  const socket = net.connect(Number(port), '127.0.0.1');
  const opened = Date.now();
  const idle: Idle = { socket, closedAfter: undefined };
  socket.on('error', () => undefined); // a reset is one way for the server to close it
  socket.resume(); // read (and drop) what the server sends, so its closing is seen
  socket.on('close', () => (idle.closedAfter = Date.now() - opened));
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  if (text) socket.write(text);
  return idle;
}

async function waitClosed(sockets: Idle[], withinMs: number): Promise<void> {
  const started = Date.now();
  while (sockets.some((s) => s.closedAfter === undefined) && Date.now() - started < withinMs)
    await sleep(100);
}

describe('slow and idle HTTP clients', () => {
  it('half-sent requests and silent sockets are closed after the headers timeout; new clients are served meanwhile', async () => {
    const idle: Idle[] = [];
    for (let i = 0; i < MAX_CONNECTIONS - 5; i++)
      idle.push(await idleSocket(i % 3 === 0 ? '' : `GET /health HTTP/1.1\r\nHost: x\r\nX-Slow-${i}: `));
    // Below the cap: another client is served while they hang.
    const during = await call(api.base, '/health');
    assert.equal(during.status, 200);
    await waitClosed(idle, HEADERS_TIMEOUT_MS + 8000);
    const open = idle.filter((s) => s.closedAfter === undefined).length;
    for (const s of idle) s.socket.destroy();
    assert.equal(open, 0, `${open} of ${idle.length} idle sockets still open`);
    for (const s of idle)
      assert.ok(s.closedAfter! >= HEADERS_TIMEOUT_MS - 100, `closed after ${s.closedAfter} ms: too early`);
    assert.equal((await call(api.base, '/health')).status, 200);
    assert.equal(api.child.exitCode, null, 'the server is still running');
  });

  it('beyond the connection cap a new socket is closed at once; once the idle ones time out, clients are served', async () => {
    const idle: Idle[] = [];
    for (let i = 0; i < MAX_CONNECTIONS; i++)
      idle.push(await idleSocket(`GET /health HTTP/1.1\r\nHost: x\r\nX-Slow-${i}: `));
    await sleep(100);
    // The cap is reached: one more is closed by the server at once rather than left hanging.
    const extra = await idleSocket('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitClosed([extra], 2000);
    assert.notEqual(extra.closedAfter, undefined, 'the socket beyond the cap was kept');
    assert.ok(extra.closedAfter! < HEADERS_TIMEOUT_MS, `closed after ${extra.closedAfter} ms`);
    await waitClosed(idle, HEADERS_TIMEOUT_MS + 8000);
    for (const s of idle) s.socket.destroy();
    assert.equal(idle.filter((s) => s.closedAfter === undefined).length, 0);
    assert.equal((await call(api.base, '/health')).status, 200);
  });

  it('a kept-alive connection left idle is closed after the keep-alive timeout', async () => {
    const s = await idleSocket('GET /health HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
    let answer = '';
    s.socket.on('data', (b: Buffer) => (answer += b.toString()));
    await waitClosed([s], KEEPALIVE_TIMEOUT_MS + 8000);
    s.socket.destroy();
    assert.match(answer, /^HTTP\/1\.1 200 /);
    assert.notEqual(s.closedAfter, undefined, 'the idle kept-alive connection stayed open');
    assert.ok(s.closedAfter! >= KEEPALIVE_TIMEOUT_MS - 100, `closed after ${s.closedAfter} ms`);
    assert.equal(api.child.exitCode, null);
  });
});
