import { betaColor, fmtBeta, fmtCompactUsd, fmtNum, fmtPct, fmtPrice } from './format.ts';

/** The dashboard's columns: every column of GET /api/v1/data/symbols, in groups that can be hidden. */
export type GroupId = 'profile' | 'returns' | 'valuation' | 'betas' | 'quality';
export interface ColumnDef {
  id: string;
  label: string;
  group: GroupId | null;
  width: number;
  kind: 'text' | 'price' | 'pct' | 'usd' | 'ratio' | 'beta' | 'score';
}
export const GROUPS: { id: GroupId; label: string }[] = [
  { id: 'profile', label: 'Profile' },
  { id: 'returns', label: 'Price & returns' },
  { id: 'valuation', label: 'Valuation' },
  { id: 'betas', label: 'Betas' },
  { id: 'quality', label: 'Quality' },
];
const c = (
  id: string,
  label: string,
  group: GroupId | null,
  kind: ColumnDef['kind'],
  width = 84,
): ColumnDef => ({
  id,
  label,
  group,
  kind,
  width,
});
export const COLUMNS: ColumnDef[] = [
  c('symbol', 'Symbol', null, 'text', 84),
  c('company_name', 'Name', null, 'text', 190),
  c('sector', 'Sector', 'profile', 'text', 150),
  c('industry', 'Industry', 'profile', 'text', 170),
  c('current_price', 'Price', 'returns', 'price', 92),
  c('return_1d', '1D', 'returns', 'pct', 72),
  c('return_mtd', 'MTD', 'returns', 'pct', 72),
  c('return_ytd', 'YTD', 'returns', 'pct', 76),
  c('return_1m', '1M', 'returns', 'pct', 72),
  c('return_3m', '3M', 'returns', 'pct', 72),
  c('return_1y', '1Y', 'returns', 'pct', 76),
  c('market_cap', 'Mkt cap', 'valuation', 'usd', 88),
  c('enterprise_value', 'EV', 'valuation', 'usd', 88),
  c('pe_ratio', 'P/E', 'valuation', 'ratio', 66),
  c('ps_ratio', 'P/S', 'valuation', 'ratio', 66),
  c('pb_ratio', 'P/B', 'valuation', 'ratio', 66),
  c('factor_market_beta', 'Market β', 'betas', 'beta', 90),
  c('factor_value', 'Value', 'betas', 'beta', 66),
  c('factor_growth', 'Growth', 'betas', 'beta', 76),
  c('factor_momentum', 'Momentum', 'betas', 'beta', 96),
  c('factor_quality', 'Quality', 'betas', 'beta', 76),
  c('factor_size', 'Size', 'betas', 'beta', 62),
  c('factor_low_vol', 'Low vol', 'betas', 'beta', 76),
  c('factor_growth_value_spread', 'G−V spr', 'betas', 'beta', 80),
  c('factor_momentum_spread', 'Mom spr', 'betas', 'beta', 80),
  c('factor_size_spread', 'Size spr', 'betas', 'beta', 80),
  c('factor_quality_spread', 'Qual spr', 'betas', 'beta', 80),
  c('data_quality_score', 'Data quality', 'quality', 'score', 104),
];

export const SECTORS = [
  'Communication Services',
  'Consumer Discretionary',
  'Consumer Staples',
  'Energy',
  'Financials',
  'Health Care',
  'Industrials',
  'Information Technology',
  'Materials',
  'Real Estate',
  'Utilities',
];

export type Row = Record<string, string | number | null>;

export function formatCell(col: ColumnDef, v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'string') return v;
  switch (col.kind) {
    case 'price':
      return fmtPrice(v);
    case 'pct':
      return fmtPct(v);
    case 'usd':
      return fmtCompactUsd(v);
    case 'beta':
      return fmtBeta(v);
    case 'ratio':
      return fmtNum(v);
    case 'score':
      return v.toFixed(0);
    default:
      return String(v);
  }
}

export const cellStyle = (col: ColumnDef, v: unknown) =>
  col.kind === 'beta' && typeof v === 'number' ? { background: betaColor(v) } : undefined;

/** CSV text of rows: the header line then one line per row, values raw (not formatted), quoted when needed. */
export function toCsv(columns: ColumnDef[], rows: Row[]): string {
  const q = (v: string | number | null | undefined) => {
    if (v === null || v === undefined) return '';
    const s = String(v);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return (
    [columns.map((c) => c.id).join(','), ...rows.map((r) => columns.map((c) => q(r[c.id])).join(','))].join(
      '\n',
    ) + '\n'
  );
}
