import {
  DASHBOARD_COLUMNS,
  DASHBOARD_NUMBER_COLUMNS,
  DASHBOARD_SORTABLE,
  DASHBOARD_TEXT_COLUMNS,
  type DashboardPage,
  type DashboardQuery,
  type DashboardSort,
  jsonKeys,
  pageJson,
  pageJsonBytes,
  rowJson,
} from './dashboard.ts';

/**
 * One computed date of `symbol_daily_metrics` held in memory, and the dashboard page answered from
 * it exactly as `dashboardSql` answers it in PostgreSQL. A computed day is immutable (a change
 * replaces the whole object), so every structure here is built once and only read afterwards.
 *
 * Equality with the SQL path rests on three things PostgreSQL itself supplies at load time, so that
 * no collation or case rule is re-implemented here:
 * - rows arrive `ORDER BY symbol`: a row's index IS its rank in the tie-break (`…, m.symbol`);
 * - each text column comes with its `dense_rank()` in the database's collation;
 * - `lower(symbol)` and `lower(company_name)`: `ILIKE` in a UTF-8 database is `lower(a) LIKE lower(p)`,
 *   and the pattern `%q%` with its wildcards escaped is a substring test. Only an ASCII `q` is
 *   answered here (its lower case is the same in every locale); any other goes to SQL.
 * Numbers follow float8's order: NULLS LAST in both directions (as the SQL says), NaN above
 * +Infinity, -0 equal to 0, then the symbol.
 */
export type NumberColumn = (typeof DASHBOARD_NUMBER_COLUMNS)[number];
export type TextColumn = (typeof DASHBOARD_TEXT_COLUMNS)[number];

export interface ServedDay {
  date: string;
  n: number;
  symbols: string[];
  lowerSymbols: string[];
  lowerNames: (string | null)[];
  text: Record<TextColumn, (string | null)[]>;
  /** NaN where `nulls` is 1 is a SQL NULL; elsewhere a float8 NaN is a real NaN */
  numbers: Record<NumberColumn, Float64Array>;
  nulls: Record<NumberColumn, Uint8Array>;
  /** row indices in page order, per sort column and direction */
  orders: Map<string, Int32Array>;
  /**
   * Each row's JSON with every column, as UTF-8 bytes, written the first time a page shows it: the
   * day never changes, so neither does a row's text (numbers to text, then the text to bytes, is
   * most of an answer's cost).
   */
  fullRows: (Buffer | undefined)[];
  /** approximate bytes held (typed arrays exactly, strings at 2 bytes a character + 40 per string) */
  bytes: number;
}

/** The load query's columns in order: symbol, the text columns, their ranks, the lower texts, the numbers. */
export const SERVED_DAY_SQL = `SELECT symbol, ${DASHBOARD_TEXT_COLUMNS.join(', ')},
  ${DASHBOARD_TEXT_COLUMNS.map((c) => `dense_rank() OVER (ORDER BY ${c})::int`).join(', ')},
  lower(symbol), lower(company_name), ${DASHBOARD_NUMBER_COLUMNS.join(', ')}
  FROM symbol_daily_metrics WHERE metric_date = $1::date ORDER BY symbol`;

const T = DASHBOARD_TEXT_COLUMNS.length;

/** float8 comparison as PostgreSQL orders it: NaN equal to itself and above everything else. */
function cmp(a: number, b: number): number {
  if (a !== a) return b !== b ? 0 : 1;
  if (b !== b) return -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Builds the day from the load query's rows (array mode). */
export function buildServedDay(date: string, rows: readonly unknown[][]): ServedDay {
  const n = rows.length;
  const symbols = new Array<string>(n);
  const lowerSymbols = new Array<string>(n);
  const lowerNames = new Array<string | null>(n);
  const text = Object.fromEntries(DASHBOARD_TEXT_COLUMNS.map((c) => [c, new Array(n)])) as Record<
    TextColumn,
    (string | null)[]
  >;
  const ranks = DASHBOARD_TEXT_COLUMNS.map(() => new Int32Array(n));
  const numbers = {} as Record<NumberColumn, Float64Array>;
  const nulls = {} as Record<NumberColumn, Uint8Array>;
  for (const c of DASHBOARD_NUMBER_COLUMNS) {
    numbers[c] = new Float64Array(n);
    nulls[c] = new Uint8Array(n);
  }
  let chars = 0;
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    symbols[i] = r[0] as string;
    for (let t = 0; t < T; t++) {
      const v = (r[1 + t] as string | null) ?? null;
      text[DASHBOARD_TEXT_COLUMNS[t]!][i] = v;
      ranks[t]![i] = v === null ? -1 : (r[1 + T + t] as number);
      chars += v === null ? 0 : v.length + 20;
    }
    lowerSymbols[i] = r[1 + 2 * T] as string;
    lowerNames[i] = (r[2 + 2 * T] as string | null) ?? null;
    chars += 2 * symbols[i]!.length + (lowerNames[i]?.length ?? 0) + 60;
    for (let k = 0; k < DASHBOARD_NUMBER_COLUMNS.length; k++) {
      const c = DASHBOARD_NUMBER_COLUMNS[k]!;
      const v = r[3 + 2 * T + k] as number | null;
      if (v === null || v === undefined) {
        nulls[c][i] = 1;
        numbers[c][i] = NaN;
      } else numbers[c][i] = v;
    }
  }
  const orders = new Map<string, Int32Array>();
  let bytes = 2 * chars + n * T * 4;
  for (const column of DASHBOARD_SORTABLE) {
    for (const direction of ['asc', 'desc'] as const) {
      const order = sortOrder(column, direction, n, numbers, nulls, ranks);
      orders.set(`${column}:${direction}`, order);
      bytes += order.byteLength;
    }
  }
  for (const c of DASHBOARD_NUMBER_COLUMNS) bytes += numbers[c].byteLength + nulls[c].byteLength;
  const fullRows = new Array<Buffer | undefined>(n);
  return { date, n, symbols, lowerSymbols, lowerNames, text, numbers, nulls, orders, fullRows, bytes };
}

function sortOrder(
  column: DashboardSort,
  direction: 'asc' | 'desc',
  n: number,
  numbers: Record<NumberColumn, Float64Array>,
  nulls: Record<NumberColumn, Uint8Array>,
  ranks: Int32Array[],
): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  // symbol: rows are in symbol order already, and symbols are unique on a date
  if (column === 'symbol') return direction === 'asc' ? order : order.reverse();
  const sign = direction === 'asc' ? 1 : -1;
  const t = (DASHBOARD_TEXT_COLUMNS as readonly string[]).indexOf(column);
  if (t >= 0) {
    const rank = ranks[t]!;
    return order.sort((a, b) => {
      const ra = rank[a]!;
      const rb = rank[b]!;
      if (ra < 0 || rb < 0) return ra < 0 && rb < 0 ? a - b : ra < 0 ? 1 : -1; // NULLS LAST
      return sign * (ra - rb) || a - b;
    });
  }
  const v = numbers[column as NumberColumn];
  const isNull = nulls[column as NumberColumn];
  return order.sort((a, b) => {
    const na = isNull[a]!;
    const nb = isNull[b]!;
    if (na || nb) return na && nb ? a - b : na ? 1 : -1; // NULLS LAST
    return sign * cmp(v[a]!, v[b]!) || a - b;
  });
}

/** True when this query can be answered from memory (its `q`, if any, is ASCII). */
export function servableFromMemory(query: DashboardQuery): boolean {
  return query.q === undefined || /^[\x20-\x7e]*$/.test(query.q);
}

/**
 * The dashboard page of `query` on this day: the same rows, order, count and values as
 * `readDashboard` (the date resolution and `nearest_metrics_date` are the caller's).
 */
export function pageOfDay(day: ServedDay, query: DashboardQuery): DashboardPage {
  const { picked, total } = pickRows(day, query);
  const rows = picked.map((i) => query.columns.map((c) => value(day, c, i)));
  return { rows, columns: query.columns, totalCount: total, metricsDate: day.date, nearestMetricsDate: null };
}

const FULL_KEYS = jsonKeys(DASHBOARD_COLUMNS);

/** The page's answer as UTF-8 JSON, the same bytes as `dashboardJson(pageOfDay(day, query))`. */
export function pageJsonOfDay(day: ServedDay, query: DashboardQuery): Buffer {
  const { picked, total } = pickRows(day, query);
  const facts = { totalCount: total, metricsDate: day.date, nearestMetricsDate: null };
  if (query.columns.length !== DASHBOARD_COLUMNS.length) {
    const keys = jsonKeys(query.columns);
    const rows = picked.map((i) =>
      rowJson(
        keys,
        query.columns.map((c) => value(day, c, i)),
      ),
    );
    return Buffer.from(pageJson(rows, facts));
  }
  const rows = picked.map((i) => {
    let bytes = day.fullRows[i];
    if (bytes === undefined) {
      bytes = Buffer.from(
        rowJson(
          FULL_KEYS,
          DASHBOARD_COLUMNS.map((c) => value(day, c, i)),
        ),
      );
      day.fullRows[i] = bytes;
    }
    return bytes;
  });
  return pageJsonBytes(rows, facts);
}

/** The row indices of the page, and the filtered count. */
function pickRows(day: ServedDay, query: DashboardQuery): { picked: number[]; total: number } {
  const order = day.orders.get(`${query.sortBy}:${query.sortOrder}`)!;
  const { sector, minMarketCap, maxMarketCap, maxPeRatio } = query;
  const q = query.q?.toLowerCase();
  const cap = day.numbers.market_cap;
  const capNull = day.nulls.market_cap;
  const pe = day.numbers.pe_ratio;
  const peNull = day.nulls.pe_ratio;
  const sectors = day.text.sector;
  const filtered =
    sector !== undefined ||
    minMarketCap !== undefined ||
    maxMarketCap !== undefined ||
    maxPeRatio !== undefined ||
    q !== undefined;
  // float8 against a bound: NaN is above every number; NULL matches nothing
  const matches = (i: number): boolean =>
    (sector === undefined || sectors[i] === sector) &&
    (minMarketCap === undefined || (!capNull[i] && cmp(cap[i]!, minMarketCap) >= 0)) &&
    (maxMarketCap === undefined || (!capNull[i] && cmp(cap[i]!, maxMarketCap) <= 0)) &&
    (maxPeRatio === undefined || (!peNull[i] && cmp(pe[i]!, maxPeRatio) <= 0)) &&
    (q === undefined || day.lowerSymbols[i]!.includes(q) || (day.lowerNames[i]?.includes(q) ?? false));
  const picked: number[] = [];
  let total: number;
  const end = query.offset + query.limit;
  if (!filtered) {
    total = day.n;
    for (let k = query.offset; k < Math.min(end, day.n); k++) picked.push(order[k]!);
  } else {
    total = 0;
    for (let k = 0; k < day.n; k++) {
      const i = order[k]!;
      if (!matches(i)) continue;
      if (total >= query.offset && total < end) picked.push(i);
      total++;
    }
  }
  return { picked, total };
}

function value(day: ServedDay, column: DashboardSort, i: number): string | number | null {
  if (column === 'symbol') return day.symbols[i]!;
  if ((DASHBOARD_TEXT_COLUMNS as readonly string[]).includes(column))
    return day.text[column as TextColumn][i]!;
  return day.nulls[column as NumberColumn][i] ? null : day.numbers[column as NumberColumn][i]!;
}

/**
 * The date a query reads from the sorted list of computed dates: the newest on or before `date`
 * (the newest of all without one), and when there is none, the first computed date after `date`.
 */
export function resolveDate(
  dates: readonly string[],
  date: string | undefined,
): { metricsDate: string | null; nearestMetricsDate: string | null } {
  if (date === undefined) return { metricsDate: dates.at(-1) ?? null, nearestMetricsDate: null };
  let lo = 0;
  let hi = dates.length; // first index with dates[i] > date
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (dates[mid]! <= date) lo = mid + 1;
    else hi = mid;
  }
  if (lo > 0) return { metricsDate: dates[lo - 1]!, nearestMetricsDate: null };
  return { metricsDate: null, nearestMetricsDate: dates[0] ?? null };
}
