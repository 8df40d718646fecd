import type {} from '../deps.ts';
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ownsPortfolio } from '../../portfolios/limits-repo.ts';
import { loadReportData } from '../../reports/data.ts';
import { renderPdf } from '../../reports/pdf.ts';
import { renderXlsx } from '../../reports/xlsx.ts';
import { ApiError } from '../errors.ts';
import { errors, Id, IsoDate } from '../schemas.ts';

/**
 * A portfolio's reports of a date (the newest computed one on or before `date`, default the newest):
 * an Excel workbook and a PDF risk report, both from the stored figures the API serves.
 */
const FORMATS = {
  xlsx: {
    type: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    render: renderXlsx,
  },
  pdf: { type: 'application/pdf', render: renderPdf },
} as const;

export const reportRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { pool, config } = app.deps;
  for (const [ext, f] of Object.entries(FORMATS)) {
    app.get(
      `/:id/report.${ext}`,
      {
        schema: {
          summary: `The portfolio's ${ext.toUpperCase()} report of a date`,
          params: Type.Object({ id: Id }),
          querystring: Type.Object({ date: Type.Optional(IsoDate) }),
          response: {
            200: Type.Unsafe<Buffer>({ type: 'string', format: 'binary', description: f.type }),
            ...errors,
          },
        },
      },
      async (request, reply) => {
        const { id } = request.params;
        if (!(await ownsPortfolio(pool, id, request.user.sub)))
          throw new ApiError(404, 'not_found', `no portfolio ${id}`);
        const data = await loadReportData(pool, id, request.query.date, config.benchmark);
        if (!data)
          throw new ApiError(
            404,
            'not_found',
            `portfolio ${id} has no computed date on or before ${request.query.date ?? 'today'}`,
          );
        const body = await f.render(data);
        const name = `${data.portfolio.name.replace(/[^A-Za-z0-9_-]+/g, '_')}-${data.date}.${ext}`;
        return reply
          .header('content-type', f.type)
          .header('content-disposition', `attachment; filename="${name}"`)
          .send(body);
      },
    );
  }
};
