/**
 * What every route plugin may rely on: the server's dependencies (`app.deps`) and the signed-in user
 * (`request.user`). Kept apart from `server.ts` so that routes import only from below them.
 */
import type { Kysely } from 'kysely';
import type pg from 'pg';
import type { Config } from '../config.ts';
import type { Database } from '../db/schema.ts';
import type { ServedDates } from '../metrics/served-dates.ts';
import type { PipelineEngine } from '../pipeline/engine.ts';
import type { AccountCache } from '../users/account-cache.ts';
import type { DayPanelCache } from '../risk/panel-cache.ts';

export interface ApiDeps {
  db: Kysely<Database>;
  pool: pg.Pool;
  config: Config;
  secret: string;
  /** Enqueues pipeline runs (POST /api/v1/batch/runs); absent, that route answers 503. */
  engine?: Pick<PipelineEngine, 'createRun'>;
  /** The dashboard's latest dates in memory; buildServer opens one when `config.servedDates` > 0. */
  servedDates?: ServedDates;
  /** The signed-in users' rows for `config.authCacheMs`; buildServer opens one when absent. */
  accounts?: AccountCache;
  /** What-if's day panels in memory, dropped with the served dates (buildServer opens it beside them). */
  panels?: DayPanelCache;
}

/** What a token carries: who, and the user's token version when it was signed (no rights). */
export interface TokenPayload {
  sub: number;
  username: string;
  tv: number;
}

/** The signed-in user of a request, as the store has it now (admin rights are never read from the token). */
export interface TokenUser {
  sub: number;
  username: string;
  admin: boolean;
}

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: TokenPayload;
    user: TokenUser;
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    deps: ApiDeps;
  }
}
