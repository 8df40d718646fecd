import type {} from '../deps.ts';
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ActiveRunError, listRuns, runJobs, getRun } from '../../pipeline/runs.ts';
import { ApiError } from '../errors.ts';
import { countRuns } from '../read/batch.ts';
import { ErrorBody, errors, IsoDate, Nullable, PageFields } from '../schemas.ts';

const Run = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  from_date: Type.String(),
  to_date: Type.String(),
  status: Type.String(),
  force: Type.Boolean(),
  created_at: Type.String(),
  started_at: Nullable(Type.String()),
  finished_at: Nullable(Type.String()),
  error: Nullable(Type.String()),
  /** the trading days the run covers, once resolved (null before its market data stage) */
  first_trading_day: Type.Optional(Nullable(Type.String())),
  last_trading_day: Type.Optional(Nullable(Type.String())),
  jobs_total: Type.Integer(),
  jobs_done: Type.Integer(),
});

const Job = Type.Object({
  partition: Type.Integer(),
  state: Type.String(),
  attempts: Type.Integer(),
  duration_ms: Nullable(Type.Number()),
  items: Nullable(Type.Integer()),
  error: Nullable(Type.String()),
});

const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());

/**
 * The daily pipeline's runs (admins only): the list, one run with every stage and partition, and
 * starting a run, which the workers then execute (202 with its id; 409 with the active run's id).
 */
export const batchRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { db, pool } = app.deps;
  app.addHook('onRequest', async (request) => {
    if (!request.user.admin) throw new ApiError(403, 'forbidden', 'batch runs are for admin users');
  });

  app.get(
    '/runs',
    {
      schema: {
        summary: 'Recent runs of the daily pipeline, newest first',
        querystring: Type.Object(
          {
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
            offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ runs: Type.Array(Run), ...PageFields }),
          403: ErrorBody,
          ...errors,
        },
      },
    },
    async (request) => ({
      limit: request.query.limit ?? 50,
      offset: request.query.offset ?? 0,
      total: await countRuns(db),
      runs: (await listRuns(db, request.query.limit ?? 50, request.query.offset ?? 0)).map((r) => ({
        ...r,
        created_at: iso(r.created_at)!,
        started_at: iso(r.started_at),
        finished_at: iso(r.finished_at),
        jobs_total: Number(r.jobs_total ?? 0),
        jobs_done: Number(r.jobs_done ?? 0),
      })),
    }),
  );

  app.get(
    '/runs/:id',
    {
      schema: {
        summary: 'One run: every stage and date block with its partitions (state, attempts, duration, error)',
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
        response: {
          200: Type.Object({
            id: Type.String(),
            kind: Type.String(),
            from_date: Type.String(),
            to_date: Type.String(),
            status: Type.String(),
            error: Nullable(Type.String()),
            days: Type.Array(Type.String()),
            stages: Type.Array(
              Type.Object({
                stage: Type.String(),
                date: Type.String(),
                last_date: Type.String(),
                partitions: Type.Array(Job),
              }),
            ),
          }),
          403: ErrorBody,
          ...errors,
        },
      },
    },
    async (request) => {
      const run = await getRun(pool, request.params.id);
      if (!run) throw new ApiError(404, 'not_found', `no run ${request.params.id}`);
      const stages = new Map<
        string,
        { stage: string; date: string; last_date: string; partitions: typeof jobs }
      >();
      const jobs = await runJobs(db, run.id);
      for (const j of jobs) {
        const key = `${j.stage}|${j.first_date}`;
        let s = stages.get(key);
        if (!s)
          stages.set(
            key,
            (s = { stage: j.stage, date: j.first_date, last_date: j.last_date, partitions: [] }),
          );
        s.partitions.push(j);
      }
      return {
        id: run.id,
        kind: run.kind,
        from_date: run.from_date,
        to_date: run.to_date,
        status: run.status,
        error: run.error,
        days: run.days ?? [],
        stages: [...stages.values()],
      };
    },
  );

  app.post(
    '/runs',
    {
      schema: {
        summary: 'Enqueue a run of the daily pipeline for a date, or a range (the workers execute it)',
        body: Type.Object(
          {
            date: Type.Optional(IsoDate),
            from: Type.Optional(IsoDate),
            to: Type.Optional(IsoDate),
            force: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: {
          202: Type.Object({ id: Type.String(), from_date: Type.String(), to_date: Type.String() }),
          403: ErrorBody,
          409: Type.Object({
            error: Type.String(),
            message: Type.String(),
            details: Type.Unknown(),
            id: Type.String(),
          }),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const engine = app.deps.engine;
      if (!engine) throw new ApiError(503, 'unavailable', 'this server has no job engine');
      const { date, force } = request.body;
      const today = new Date().toISOString().slice(0, 10);
      const from = request.body.from ?? date ?? today;
      const to = request.body.to ?? date ?? from;
      if ((date && (request.body.from || request.body.to)) || from > to)
        throw new ApiError(400, 'bad_request', 'give a date, or from ≤ to');
      try {
        const id = await engine.createRun({
          from,
          to,
          kind: from === to ? 'run' : 'backfill',
          force: force ?? false,
          requestedBy: request.user.username,
        });
        return reply.status(202).send({ id, from_date: from, to_date: to });
      } catch (e) {
        if (e instanceof ActiveRunError)
          return reply.status(409).send({
            error: 'conflict',
            message: e.message,
            details: { run_id: e.runId },
            id: e.runId,
          });
        throw e;
      }
    },
  );
};
