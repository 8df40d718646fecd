import type pg from 'pg';
import { FACTOR_COLUMNS } from './columns.ts';
import { PERIODS } from './returns.ts';

/**
 * The symbol dashboard's read: one page of `symbol_daily_metrics` on a date, filtered and sorted,
 * with the filtered row count, in one round trip. Column names come only from the fixed lists below
 * (never from input); every value is a bound parameter.
 */
export const DASHBOARD_NUMBER_COLUMNS = [
  'current_price',
  'market_cap',
  'enterprise_value',
  'pe_ratio',
  'ps_ratio',
  'pb_ratio',
  ...PERIODS,
  ...FACTOR_COLUMNS,
  'specific_vol',
  'data_quality_score',
] as const;
export const DASHBOARD_TEXT_COLUMNS = ['company_name', 'sector', 'industry'] as const;
/** Every column a client may ask for (`fields=`); `symbol` is always included. */
export const DASHBOARD_COLUMNS = ['symbol', ...DASHBOARD_TEXT_COLUMNS, ...DASHBOARD_NUMBER_COLUMNS] as const;
export type DashboardColumn = (typeof DASHBOARD_COLUMNS)[number];
/** The only columns a client may sort by: any column of the dashboard. */
export const DASHBOARD_SORTABLE = DASHBOARD_COLUMNS;
export type DashboardSort = (typeof DASHBOARD_SORTABLE)[number];

export interface DashboardQuery {
  sortBy: DashboardSort;
  sortOrder: 'asc' | 'desc';
  sector?: string;
  minMarketCap?: number;
  maxMarketCap?: number;
  maxPeRatio?: number;
  /** text found anywhere in the symbol or the company name, case-insensitively */
  q?: string;
  limit: number;
  offset: number;
  /** the newest metrics date on or before this one; the newest of all when absent */
  date?: string;
  columns: readonly DashboardColumn[];
}

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * The SQL text and parameters of a dashboard page. Columns come back as arrays in `columns` order,
 * then the filtered row count and the metrics date.
 *
 * e.g. {sortBy: 'factor_market_beta', sortOrder: 'desc', limit: 100, offset: 0, columns: ['symbol']}
 *   → `SELECT m.symbol, (SELECT count(*) FROM symbol_daily_metrics c WHERE c.metric_date = (…max…)),
 *      m.metric_date::text FROM symbol_daily_metrics m
 *      WHERE m.metric_date = (SELECT max(metric_date) FROM symbol_daily_metrics)
 *      ORDER BY m.factor_market_beta DESC NULLS LAST, m.symbol LIMIT $1 OFFSET $2`
 */
export function dashboardSql(
  query: DashboardQuery,
  options: { countOnly?: boolean } = {},
): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  const param = (v: unknown) => {
    values.push(v);
    return `$${values.length}`;
  };
  const dateFilter =
    query.date === undefined
      ? '(SELECT max(metric_date) FROM symbol_daily_metrics)'
      : `(SELECT max(metric_date) FROM symbol_daily_metrics WHERE metric_date <= ${param(query.date)}::date)`;
  const filters: ((t: string) => string)[] = [(t) => `${t}.metric_date = ${dateFilter}`];
  if (query.sector !== undefined) {
    const p = param(query.sector);
    filters.push((t) => `${t}.sector = ${p}`);
  }
  if (query.minMarketCap !== undefined) {
    const p = param(query.minMarketCap);
    filters.push((t) => `${t}.market_cap >= ${p}`);
  }
  if (query.maxMarketCap !== undefined) {
    const p = param(query.maxMarketCap);
    filters.push((t) => `${t}.market_cap <= ${p}`);
  }
  if (query.maxPeRatio !== undefined) {
    const p = param(query.maxPeRatio);
    filters.push((t) => `${t}.pe_ratio <= ${p}`);
  }
  if (query.q !== undefined) {
    const p = param(`%${escapeLike(query.q)}%`);
    filters.push((t) => `(${t}.symbol ILIKE ${p} OR ${t}.company_name ILIKE ${p})`);
  }
  const where = (t: string) => filters.map((f) => f(t)).join(' AND ');
  // The count is a separate (uncorrelated, run once) subquery rather than count(*) OVER (): a window
  // over every matching row would stop PostgreSQL from keeping only the top rows while it sorts.
  const count = `(SELECT count(*) FROM symbol_daily_metrics c WHERE ${where('c')})`;
  if (options.countOnly) {
    return { text: `SELECT ${count}, ${dateFilter}::text`, values };
  }
  const columns = query.columns.map((c) => `m.${c}`).join(', ');
  const direction = query.sortOrder === 'asc' ? 'ASC' : 'DESC';
  const tie = query.sortBy === 'symbol' ? '' : ', m.symbol';
  const text =
    `SELECT ${columns}, ${count} AS total_count, m.metric_date::text AS metrics_date` +
    ` FROM symbol_daily_metrics m WHERE ${where('m')}` +
    ` ORDER BY m.${query.sortBy} ${direction} NULLS LAST${tie} LIMIT ${param(query.limit)} OFFSET ${param(query.offset)}`;
  return { text, values };
}

export interface DashboardPage {
  /** rows as arrays of values in `columns` order */
  rows: unknown[][];
  columns: readonly DashboardColumn[];
  totalCount: number;
  metricsDate: string | null;
  /**
   * When a date was asked and nothing is computed on or before it: the first computed date after
   * it (what the client offers instead), or null when nothing is computed at all.
   */
  nearestMetricsDate: string | null;
}

/** Reads one dashboard page (one query; a second only to count past the last page). */
export async function readDashboard(pool: pg.Pool, query: DashboardQuery): Promise<DashboardPage> {
  const { text, values } = dashboardSql(query);
  const n = query.columns.length;
  const result = await pool.query<unknown[]>({ text, values, rowMode: 'array' });
  const rows = result.rows;
  let totalCount = rows.length > 0 ? Number(rows[0]![n]) : 0;
  let metricsDate = rows.length > 0 ? (rows[0]![n + 1] as string) : null;
  if (rows.length === 0) {
    // past the end, or nothing matched: count without the page (and learn the date)
    const count = await pool.query<unknown[]>({
      ...dashboardSql(query, { countOnly: true }),
      rowMode: 'array',
    });
    totalCount = Number(count.rows[0]![0]);
    metricsDate = (count.rows[0]![1] as string | null) ?? null;
  }
  let nearestMetricsDate: string | null = null;
  if (metricsDate === null && query.date !== undefined) {
    const next = await pool.query<{ d: string | null }>(
      'SELECT min(metric_date)::text AS d FROM symbol_daily_metrics WHERE metric_date > $1::date',
      [query.date],
    );
    nearestMetricsDate = next.rows[0]?.d ?? null;
  }
  for (const r of rows) r.length = n;
  return { rows, columns: query.columns, totalCount, metricsDate, nearestMetricsDate };
}

/**
 * A dashboard page as JSON text, written directly (the route's schema documents the same shape):
 * `{"symbols":[{…}],"total_count":n,"metrics_date":"…","nearest_metrics_date":null}`. Non-finite numbers become null.
 */
export function dashboardJson(page: DashboardPage): string {
  const keys = jsonKeys(page.columns);
  return pageJson(
    page.rows.map((row) => rowJson(keys, row)),
    page,
  );
}

/** The `"column":` prefixes of a row's JSON, in `columns` order. */
export const jsonKeys = (columns: readonly DashboardColumn[]) => columns.map((c) => `${JSON.stringify(c)}:`);

/** One row's JSON object: numbers in full precision (shortest round-trip form), non-finite ones null. */
export function rowJson(keys: readonly string[], row: readonly unknown[]): string {
  let s = '{';
  for (let i = 0; i < keys.length; i++) {
    const v = row[i];
    s += (i === 0 ? '' : ',') + keys[i];
    if (v === null || v === undefined) s += 'null';
    else if (typeof v === 'number') s += Number.isFinite(v) ? String(v) : 'null';
    else s += JSON.stringify(v);
  }
  return `${s}}`;
}

type PageFacts = Pick<DashboardPage, 'totalCount' | 'metricsDate' | 'nearestMetricsDate'>;

const PAGE_HEAD = '{"symbols":[';
const pageTail = (page: PageFacts) =>
  `],"total_count":${page.totalCount},"metrics_date":${JSON.stringify(page.metricsDate)},"nearest_metrics_date":${JSON.stringify(page.nearestMetricsDate)}}`;

/** The answer around its rows' JSON. */
export function pageJson(rows: readonly string[], page: PageFacts): string {
  return `${PAGE_HEAD}${rows.join(',')}${pageTail(page)}`;
}

const HEAD_BYTES = Buffer.from(PAGE_HEAD);
const COMMA = Buffer.from(',');

/**
 * `pageJson` as UTF-8 bytes, from rows already encoded: copying bytes costs less than joining the
 * rows' text and encoding it again for every answer.
 */
export function pageJsonBytes(rows: readonly Buffer[], page: PageFacts): Buffer {
  const parts: Buffer[] = [HEAD_BYTES];
  for (let i = 0; i < rows.length; i++) {
    if (i > 0) parts.push(COMMA);
    parts.push(rows[i]!);
  }
  parts.push(Buffer.from(pageTail(page)));
  return Buffer.concat(parts);
}
