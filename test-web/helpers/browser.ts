import { createHmac } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';

/**
 * Debian's Chromium (apt-get install -y chromium), driven by playwright-core: no browser is ever
 * downloaded. As root it needs --no-sandbox.
 */
export const CHROMIUM = process.env.FU_CHROMIUM ?? '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--headless',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-dev-shm-usage',
    ],
  });
}

/** Where the test run saves a screenshot of every page (shown in the README). */
export function screenshotDir(): string {
  const dir = path.resolve('docs/screenshots');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** An HS256 JWT written by hand (not by the server's signer), e.g. one that expired an hour ago. */
export function handMadeJwt(secret: string, payload: Record<string, unknown>): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(payload)}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}
