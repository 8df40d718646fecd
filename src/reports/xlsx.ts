import ExcelJS from 'exceljs';
import type { ReportData } from './data.ts';

/**
 * The portfolio's workbook: one sheet per subject, numbers stored as numbers with a display format
 * (percent, money, decimals), never as text, so that a reader can compute with them.
 */
const PCT = '0.00%';
const MONEY = '#,##0.00';
const DEC = '0.0000';

type Col = { header: string; key: string; width?: number; fmt?: string };

function sheet(wb: ExcelJS.Workbook, name: string, cols: Col[], rows: readonly object[]): void {
  const ws = wb.addWorksheet(name);
  ws.columns = cols.map((c) => ({ header: c.header, key: c.key, width: c.width ?? 16 }));
  ws.getRow(1).font = { bold: true };
  ws.views = [{ state: 'frozen', ySplit: 1 }];
  for (const r of rows) ws.addRow(r);
  cols.forEach((c, i) => {
    if (c.fmt) ws.getColumn(i + 1).numFmt = c.fmt;
  });
}

export async function renderXlsx(d: ReportData): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'Factor Universe';
  wb.created = new Date(`${d.date}T00:00:00Z`);
  const r = d.risk;
  sheet(
    wb,
    'Summary',
    [
      { header: 'Figure', key: 'k', width: 28 },
      { header: 'Value', key: 'v', width: 20 },
    ],
    [],
  );
  const summary = wb.getWorksheet('Summary')!;
  const put = (k: string, v: string | number | null, fmt?: string) => {
    const row = summary.addRow({ k, v });
    if (fmt && typeof v === 'number') row.getCell(2).numFmt = fmt;
  };
  put('Portfolio', d.portfolio.name);
  put('Date', d.date);
  put('Benchmark', d.benchmark);
  put('Equity', d.equity, MONEY);
  put('Daily P&L', d.dailyPnl, MONEY);
  put('Daily return', d.dailyReturn, PCT);
  put('Total risk', r?.risk.total_risk ?? null, PCT);
  put('Factor risk', r?.risk.factor_risk ?? null, PCT);
  put('Specific risk', r?.risk.specific_risk ?? null, PCT);
  put('Tracking error', d.trackingError, PCT);
  put('Active return', d.activeReturn, PCT);
  put('Breaches on date', d.breaches.filter((b) => b.date === d.date).length);

  sheet(
    wb,
    'Positions',
    [
      { header: 'Symbol', key: 'symbol' },
      { header: 'Type', key: 'position_type', width: 8 },
      { header: 'Quantity', key: 'quantity', fmt: '#,##0.####' },
      { header: 'Price', key: 'price', fmt: MONEY },
      { header: 'Market value', key: 'market_value', fmt: MONEY, width: 18 },
      { header: 'Weight', key: 'weight', fmt: PCT },
      { header: 'P&L', key: 'pnl', fmt: MONEY },
    ],
    d.positions,
  );
  sheet(
    wb,
    'Exposures',
    [
      { header: 'Factor', key: 'factor', width: 22 },
      { header: 'Exposure', key: 'exposure', fmt: DEC },
      { header: 'Active exposure', key: 'active', fmt: DEC, width: 18 },
    ],
    d.exposures,
  );
  sheet(
    wb,
    'Risk',
    [
      { header: 'Kind', key: 'kind', width: 10 },
      { header: 'Name', key: 'name', width: 22 },
      { header: 'Exposure / weight', key: 'x', fmt: DEC, width: 18 },
      { header: 'Contribution', key: 'c', fmt: PCT },
      { header: 'Share of risk', key: 'p', fmt: PCT },
    ],
    r
      ? [
          ...r.risk.factors.map((f) => ({
            kind: 'factor',
            name: f.factor,
            x: f.exposure,
            c: f.contribution,
            p: f.percent,
          })),
          ...r.risk.positions.map((p) => ({
            kind: 'position',
            name: p.symbol,
            x: p.weight,
            c: p.contribution,
            p: p.percent,
          })),
        ]
      : [],
  );
  sheet(
    wb,
    'VaR',
    [
      { header: 'Method', key: 'm' },
      { header: 'VaR 95%', key: 'v95', fmt: MONEY },
      { header: 'ES 95%', key: 'e95', fmt: MONEY },
      { header: 'VaR 99%', key: 'v99', fmt: MONEY },
      { header: 'ES 99%', key: 'e99', fmt: MONEY },
    ],
    r
      ? (['parametric', 'historical'] as const).map((m) => ({
          m,
          v95: r.var[m].var_95,
          e95: r.var[m].es_95,
          v99: r.var[m].var_99,
          e99: r.var[m].es_99,
        }))
      : [],
  );
  sheet(
    wb,
    'Stress tests',
    [
      { header: 'Scenario', key: 'scenario', width: 30 },
      { header: 'Kind', key: 'kind', width: 11 },
      { header: 'P&L', key: 'pnl', fmt: MONEY },
      { header: 'P&L % equity', key: 'pnl_percent', fmt: PCT },
      { header: 'Status', key: 'status', width: 15 },
      { header: 'Reason', key: 'reason', width: 30 },
    ],
    r ? r.stress.map((s) => ({ ...s, reason: s.reason ?? '' })) : [],
  );
  sheet(
    wb,
    'Attribution',
    [
      { header: 'Source', key: 's', width: 22 },
      { header: 'P&L', key: 'v', fmt: MONEY },
    ],
    r?.attribution
      ? [
          ...Object.entries(r.attribution.factor_pnl).map(([s, v]) => ({ s, v })),
          { s: 'Specific', v: r.attribution.specific_pnl },
          { s: 'Total', v: r.attribution.daily_pnl },
        ]
      : [],
  );
  sheet(
    wb,
    'Limits',
    [
      { header: 'Name', key: 'name', width: 24 },
      { header: 'Metric', key: 'metric', width: 20 },
      { header: 'Factor', key: 'factor', width: 18 },
      { header: 'Lower', key: 'lower', fmt: DEC },
      { header: 'Upper', key: 'upper', fmt: DEC },
      { header: 'Value', key: 'value', fmt: DEC },
      { header: 'Breached', key: 'breached', width: 10 },
    ],
    d.limits.map((l) => ({ ...l, breached: l.breached ? 'yes' : 'no' })),
  );
  sheet(
    wb,
    'Breaches',
    [
      { header: 'Date', key: 'date', width: 12 },
      { header: 'Limit', key: 'name', width: 24 },
      { header: 'Value', key: 'value', fmt: DEC },
      { header: 'Lower', key: 'lower', fmt: DEC },
      { header: 'Upper', key: 'upper', fmt: DEC },
    ],
    d.breaches,
  );
  return Buffer.from(await wb.xlsx.writeBuffer());
}
