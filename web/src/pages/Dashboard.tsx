import {
  flexRender,
  getCoreRowModel,
  useReactTable,
  type ColumnDef as TableColumn,
} from '@tanstack/react-table';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useCallback, useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { api, qs } from '../api.ts';
import {
  cellStyle,
  COLUMNS,
  formatCell,
  GROUPS,
  SECTORS,
  toCsv,
  type ColumnDef,
  type GroupId,
  type Row,
} from '../columns.ts';
import { Failed } from '../components/States.tsx';
import { fmtInt } from '../format.ts';
import { navigate, setQuery } from '../router.ts';

/** Rows per request: the server's page, fetched as the visible window needs it. */
const PAGE = 100;
const ROW_HEIGHT = 30;

interface Answer {
  symbols: Row[];
  total_count: number;
  metrics_date: string | null;
  nearest_metrics_date: string | null;
}

/** The view as the URL holds it: a link reproduces it, the back button returns to the previous one. */
function viewOf(query: URLSearchParams) {
  const hidden = new Set((query.get('hide') ?? '').split(',').filter(Boolean) as GroupId[]);
  const sort = query.get('sort') ?? 'market_cap';
  return {
    sort: COLUMNS.some((c) => c.id === sort) ? sort : 'market_cap',
    order: query.get('order') === 'asc' ? ('asc' as const) : ('desc' as const),
    sector: query.get('sector') ?? '',
    minCap: query.get('min_cap') ?? '',
    maxCap: query.get('max_cap') ?? '',
    maxPe: query.get('max_pe') ?? '',
    q: query.get('q') ?? '',
    date: query.get('date') ?? '',
    hidden,
  };
}
type View = ReturnType<typeof viewOf>;

const billions = (s: string) => (s && Number.isFinite(Number(s)) ? Number(s) * 1e9 : undefined);

function requestPath(view: View, columns: ColumnDef[], offset: number, limit = PAGE) {
  return `/data/symbols${qs({
    fields: columns.map((c) => c.id).join(','),
    sort_by: view.sort,
    sort_order: view.order,
    sector: view.sector,
    min_market_cap: billions(view.minCap),
    max_market_cap: billions(view.maxCap),
    max_pe_ratio: view.maxPe && Number.isFinite(Number(view.maxPe)) ? Number(view.maxPe) : undefined,
    q: view.q.trim(),
    date: view.date,
    limit,
    offset,
  })}`;
}

export function Dashboard({ query }: { query: URLSearchParams }) {
  const view = viewOf(query);
  const columns = useMemo(
    () => COLUMNS.filter((c) => c.group === null || !view.hidden.has(c.group)),
    [query.get('hide')],
  );
  const key = requestPath(view, columns, 0);

  // Pages of rows by page number for the current view; a new view starts empty.
  const [data, setData] = useState<{
    key: string;
    total: number | null;
    date: string | null;
    nearest: string | null;
    pages: Map<number, Row[]>;
    error?: unknown;
  }>({ key: '', total: null, date: null, nearest: null, pages: new Map() });
  const inflight = useRef(new Set<string>());
  const current = useRef(key);
  current.current = key;

  const loadPage = useCallback(
    (page: number) => {
      const reqKey = `${key}#${page}`;
      if (inflight.current.has(reqKey)) return;
      inflight.current.add(reqKey);
      api<Answer>(requestPath(view, columns, page * PAGE)).then(
        (a) => {
          if (current.current !== key) return;
          setData((d) => {
            const pages = new Map(d.key === key ? d.pages : []);
            pages.set(page, a.symbols);
            return {
              key,
              total: a.total_count,
              date: a.metrics_date,
              nearest: a.nearest_metrics_date,
              pages,
            };
          });
        },
        (error: unknown) => {
          inflight.current.delete(reqKey);
          if (current.current === key) setData((d) => ({ ...d, key, error }));
        },
      );
    },
    [key],
  );

  // A filter the server would refuse is said here, in words, and nothing is asked.
  const problem = viewProblem(view);
  useEffect(() => {
    inflight.current.clear();
    if (!problem) loadPage(0);
  }, [loadPage, problem]);

  const fresh = data.key === key;
  // While a new view loads, the previous rows stay (dimmed) rather than flashing empty.
  const total = data.total ?? 0;
  // The table's rows are the indexes 0…total-1 (stable while the count stays: a new page of data or a
  // new sort re-renders only the rows on screen); a cell reads its row from the loaded pages.
  const indexes = useMemo(() => Array.from({ length: total }, (_, i) => i), [total]);
  const rowAt = (i: number): Row | null => data.pages.get(Math.floor(i / PAGE))?.[i % PAGE] ?? null;

  const tableColumns = useMemo<TableColumn<number>[]>(
    () =>
      columns.map((col) => ({
        id: col.id,
        header: col.label,
        size: col.width,
        meta: col,
      })),
    [columns],
  );
  const table = useReactTable({
    data: indexes,
    columns: tableColumns,
    getCoreRowModel: getCoreRowModel(),
    manualSorting: true,
    manualFiltering: true,
  });
  const tableRows = table.getRowModel().rows;

  const scroller = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: tableRows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
  });
  const items = virtualizer.getVirtualItems();
  const firstIndex = items[0]?.index ?? 0;
  const lastIndex = items.at(-1)?.index ?? 0;
  useEffect(() => {
    if (!fresh || total === 0) return;
    for (let p = Math.floor(firstIndex / PAGE); p <= Math.floor(lastIndex / PAGE); p++) {
      if (!data.pages.has(p)) loadPage(p);
    }
  }, [firstIndex, lastIndex, fresh, total, data.pages, loadPage]);

  // A new sort or filter starts at the top.
  useEffect(() => {
    scroller.current?.scrollTo({ top: 0 });
    setActive(0);
  }, [key]);

  const [active, setActive] = useState(0);
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const pageRows = Math.max(1, Math.floor((scroller.current?.clientHeight ?? 300) / ROW_HEIGHT) - 2);
    const moves: Record<string, number> = {
      ArrowDown: 1,
      ArrowUp: -1,
      PageDown: pageRows,
      PageUp: -pageRows,
      Home: -Infinity,
      End: Infinity,
    };
    if (e.key in moves) {
      e.preventDefault();
      const next = Math.max(0, Math.min(total - 1, active + moves[e.key]!));
      setActive(next);
      virtualizer.scrollToIndex(next, { align: 'auto' });
    } else if (e.key === 'Enter') {
      const sym = rowAt(active)?.symbol;
      if (typeof sym === 'string') navigate(`/symbols/${encodeURIComponent(sym)}`);
    }
  };

  const sortBy = (col: ColumnDef) => {
    const order =
      view.sort === col.id ? (view.order === 'desc' ? 'asc' : 'desc') : col.kind === 'text' ? 'asc' : 'desc';
    setQuery({ sort: col.id, order });
  };

  // Typing in the search box updates the URL after a pause, replacing (not stacking) history entries.
  const [q, setQ] = useState(view.q);
  useEffect(() => setQ(view.q), [view.q]);
  useEffect(() => {
    if (q === view.q) return;
    const t = setTimeout(() => setQuery({ q }, { replace: true }), 250);
    return () => clearTimeout(t);
  }, [q, view.q]);

  const [exporting, setExporting] = useState(false);
  const exportCsv = async () => {
    setExporting(true);
    try {
      const all: Row[] = [];
      for (let offset = 0; offset < total; offset += 500) {
        all.push(...(await api<Answer>(requestPath(view, columns, offset, 500))).symbols);
      }
      const url = URL.createObjectURL(new Blob([toCsv(columns, all)], { type: 'text/csv' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = `symbols-${data.date ?? 'latest'}.csv`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    } finally {
      setExporting(false);
    }
  };

  const width = columns.reduce((s, c) => s + c.width, 0);
  const toggleGroup = (g: GroupId) => {
    const hidden = new Set(view.hidden);
    if (hidden.has(g)) hidden.delete(g);
    else hidden.add(g);
    setQuery({ hide: [...hidden].join(',') });
  };

  return (
    <section className="dashboard">
      <div className="toolbar" role="search">
        <input
          type="search"
          placeholder="Search symbol or name"
          aria-label="Search symbol or name"
          value={q}
          onChange={(e) => setQ(e.target.value)}
        />
        <select
          aria-label="Sector"
          value={view.sector}
          onChange={(e) => setQuery({ sector: e.target.value })}
        >
          <option value="">All sectors</option>
          {SECTORS.map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
        <label className="inline">
          Mkt cap $B
          <input
            type="number"
            min={0}
            aria-label="Minimum market cap in billions"
            placeholder="min"
            defaultValue={view.minCap}
            key={`min${view.minCap}`}
            onBlur={(e) => setQuery({ min_cap: e.target.value })}
            onKeyDown={(e) => e.key === 'Enter' && setQuery({ min_cap: e.currentTarget.value })}
          />
          –
          <input
            type="number"
            min={0}
            aria-label="Maximum market cap in billions"
            placeholder="max"
            defaultValue={view.maxCap}
            key={`max${view.maxCap}`}
            onBlur={(e) => setQuery({ max_cap: e.target.value })}
            onKeyDown={(e) => e.key === 'Enter' && setQuery({ max_cap: e.currentTarget.value })}
          />
        </label>
        <label className="inline">
          Max P/E
          <input
            type="number"
            aria-label="Maximum P/E"
            defaultValue={view.maxPe}
            key={`pe${view.maxPe}`}
            onBlur={(e) => setQuery({ max_pe: e.target.value })}
            onKeyDown={(e) => e.key === 'Enter' && setQuery({ max_pe: e.currentTarget.value })}
          />
        </label>
        <label className="inline">
          Date
          <input
            type="date"
            aria-label="Date"
            value={view.date}
            onChange={(e) => setQuery({ date: e.target.value })}
          />
        </label>
      </div>
      <div className="toolbar secondary">
        <span className="count" data-testid="row-count">
          {data.total === null ? 'Loading…' : `${fmtInt(total)} symbols`}
          {data.date && (
            <span className="muted" data-testid="metrics-date">
              {' '}
              · metrics of {data.date}
              {view.date && view.date !== data.date && ` (the last computed date on or before ${view.date})`}
            </span>
          )}
        </span>
        <span className="groups" aria-label="Column groups">
          {GROUPS.map((g) => (
            <label key={g.id} className="chip">
              <input type="checkbox" checked={!view.hidden.has(g.id)} onChange={() => toggleGroup(g.id)} />{' '}
              {g.label}
            </label>
          ))}
        </span>
        <button type="button" onClick={exportCsv} disabled={exporting || total === 0}>
          {exporting ? 'Exporting…' : 'Export CSV'}
        </button>
      </div>
      {problem ? (
        <div className="state error" role="alert" data-testid="filter-problem">
          {problem}
        </div>
      ) : data.error !== undefined && fresh ? (
        <Failed error={data.error} />
      ) : fresh && data.total === 0 ? (
        <EmptyView view={view} date={data.date} nearest={data.nearest} />
      ) : null}
      <div
        hidden={problem !== null || (fresh && (data.error !== undefined || data.total === 0))}
        className={`grid-scroll${fresh ? '' : ' stale'}`}
        ref={scroller}
        tabIndex={0}
        role="grid"
        aria-label="Symbols"
        aria-rowcount={total}
        aria-busy={!fresh}
        onKeyDown={onKeyDown}
      >
        <table className="grid" style={{ width }}>
          <thead>
            {table.getHeaderGroups().map((hg) => (
              <tr key={hg.id}>
                {hg.headers.map((h) => {
                  const col = h.column.columnDef.meta as ColumnDef;
                  const sorted = view.sort === col.id;
                  return (
                    <th
                      key={h.id}
                      style={{ width: col.width }}
                      className={col.kind === 'text' ? 'text' : 'num'}
                      aria-sort={sorted ? (view.order === 'asc' ? 'ascending' : 'descending') : 'none'}
                      data-col={col.id}
                    >
                      <button type="button" onClick={() => sortBy(col)} title={`Sort by ${col.label}`}>
                        <span className="label">{flexRender(h.column.columnDef.header, h.getContext())}</span>
                        <span className="arrow">{sorted ? (view.order === 'asc' ? '▲' : '▼') : ''}</span>
                      </button>
                    </th>
                  );
                })}
              </tr>
            ))}
          </thead>
          <tbody style={{ height: virtualizer.getTotalSize() }}>
            {items.map((item) => {
              const row = tableRows[item.index]!;
              const r = rowAt(item.index);
              return (
                <tr
                  key={item.index}
                  data-index={item.index}
                  aria-rowindex={item.index + 1}
                  aria-selected={item.index === active}
                  className={`${item.index === active ? 'active' : ''}${r ? '' : ' placeholder'}`}
                  style={{ transform: `translateY(${item.start}px)` }}
                  onClick={() => setActive(item.index)}
                  onDoubleClick={() => r && navigate(`/symbols/${encodeURIComponent(String(r.symbol))}`)}
                >
                  {row.getVisibleCells().map((cell) => {
                    const col = cell.column.columnDef.meta as ColumnDef;
                    const v = r?.[col.id];
                    return (
                      <td
                        key={cell.id}
                        style={{ width: col.width, ...cellStyle(col, v) }}
                        className={col.kind === 'text' ? 'text' : 'num'}
                      >
                        {col.id === 'symbol' && r ? (
                          <a
                            href={`/symbols/${encodeURIComponent(String(v))}`}
                            tabIndex={-1}
                            onClick={(e) => {
                              e.preventDefault();
                              navigate(`/symbols/${encodeURIComponent(String(v))}`);
                            }}
                          >
                            {String(v)}
                          </a>
                        ) : r ? (
                          formatCell(col, v)
                        ) : (
                          ''
                        )}
                      </td>
                    );
                  })}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <p className="hint muted">
        ↑ ↓ PgUp PgDn Home End move through rows, Enter opens a symbol; click a header to sort.
      </p>
    </section>
  );
}

/** What is wrong with the filters before anything is asked (the server would answer 400), or null. */
function viewProblem(view: View): string | null {
  const min = billions(view.minCap);
  const max = billions(view.maxCap);
  if (min !== undefined && max !== undefined && min > max)
    return `The minimum market cap ($${view.minCap}B) is above the maximum ($${view.maxCap}B): no symbol can match.`;
  return null;
}

/** Why there are no rows: a date nothing is computed for is not an empty filter. */
function EmptyView({ view, date, nearest }: { view: View; date: string | null; nearest: string | null }) {
  if (date === null) {
    return (
      <div className="state empty" data-testid="no-metrics">
        {view.date ? (
          <>
            No metrics have been computed for {view.date} or any date before it.{' '}
            {nearest ? (
              <>
                The nearest computed date is {nearest}.{' '}
                <button type="button" onClick={() => setQuery({ date: nearest })}>
                  Show {nearest}
                </button>
              </>
            ) : (
              'No date has been computed yet: run the batch.'
            )}
          </>
        ) : (
          'No metrics have been computed yet: run the batch (factor-universe batch run).'
        )}
      </div>
    );
  }
  return <div className="state empty">No symbols match these filters.</div>;
}
