import { useMemo, useState, type ReactNode } from 'react';

/** A column of a DataTable: its raw value (sorted on and exported) and how a cell shows it. */
export interface DataColumn<R> {
  id: string;
  label: string;
  /** the header's tooltip: the unit or the definition */
  title?: string;
  value: (r: R) => number | string | null;
  /** the cell's content (default: the value as text) */
  render?: (r: R) => ReactNode;
  text?: boolean;
  cellClass?: (r: R) => string;
}

/** Saves rows as a CSV file: the columns' ids as the header, raw values (not the formatted ones). */
export function downloadCsv<R>(name: string, columns: DataColumn<R>[], rows: R[]): void {
  const q = (v: number | string | null) => {
    if (v === null || (typeof v === 'number' && !Number.isFinite(v))) return '';
    const s = String(v);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const text =
    [
      columns.map((c) => c.id).join(','),
      ...rows.map((r) => columns.map((c) => q(c.value(r))).join(',')),
    ].join('\n') + '\n';
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

const compare = (a: number | string | null, b: number | string | null): number => {
  if (a === null || (typeof a === 'number' && Number.isNaN(a))) return 1; // empty cells last
  if (b === null || (typeof b === 'number' && Number.isNaN(b))) return -1;
  return typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b));
};

/**
 * A table whose headers sort it (click again to reverse; empty cells stay last) and that exports
 * what it shows as CSV, in the order shown. Used for positions and risk contributions.
 */
export function DataTable<R>({
  label,
  rows,
  columns,
  rowKey,
  exportName,
  initialSort,
  rowAttributes,
  footer,
}: {
  label: string;
  rows: R[];
  columns: DataColumn<R>[];
  rowKey: (r: R) => string | number;
  /** the CSV file's name; no export button when absent */
  exportName?: string;
  initialSort?: { id: string; order: 'asc' | 'desc' };
  rowAttributes?: (r: R) => Record<string, string | number | undefined>;
  footer?: ReactNode;
}) {
  const [sort, setSort] = useState(initialSort ?? null);
  const sorted = useMemo(() => {
    if (!sort) return rows;
    const col = columns.find((c) => c.id === sort.id);
    if (!col) return rows;
    const out = [...rows].sort((a, b) => {
      const va = col.value(a);
      const vb = col.value(b);
      // empty cells last in both orders
      if (va === null || vb === null) return compare(va, vb);
      return sort.order === 'asc' ? compare(va, vb) : compare(vb, va);
    });
    return out;
  }, [rows, columns, sort]);
  const onSort = (c: DataColumn<R>) =>
    setSort((s) =>
      s?.id === c.id
        ? { id: c.id, order: s.order === 'asc' ? 'desc' : 'asc' }
        : { id: c.id, order: c.text ? 'asc' : 'desc' },
    );
  return (
    <>
      {exportName && (
        <div className="table-tools">
          <button type="button" onClick={() => downloadCsv(exportName, columns, sorted)}>
            Export CSV
          </button>
        </div>
      )}
      <div className="table-scroll">
        <table className="plain wide sortable" aria-label={label}>
          <thead>
            <tr>
              {columns.map((c) => {
                const on = sort?.id === c.id;
                return (
                  <th
                    key={c.id}
                    className={c.text ? 'text' : 'num'}
                    data-col={c.id}
                    title={c.title}
                    aria-sort={on ? (sort.order === 'asc' ? 'ascending' : 'descending') : 'none'}
                  >
                    <button type="button" onClick={() => onSort(c)}>
                      <span className="label">{c.label}</span>
                      <span className="arrow" aria-hidden="true">
                        {on ? (sort.order === 'asc' ? '▲' : '▼') : ''}
                      </span>
                    </button>
                  </th>
                );
              })}
            </tr>
          </thead>
          <tbody>
            {sorted.map((r) => (
              <tr key={rowKey(r)} {...rowAttributes?.(r)}>
                {columns.map((c) => (
                  <td key={c.id} className={`${c.text ? 'text' : 'num'} ${c.cellClass?.(r) ?? ''}`}>
                    {c.render ? c.render(r) : String(c.value(r) ?? '—')}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
          {footer}
        </table>
      </div>
    </>
  );
}
