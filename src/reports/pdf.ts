import PDFDocument from 'pdfkit';
import type { ReportData } from './data.ts';

/**
 * The one- or two-page risk report: headline figures, exposure bars (absolute and active), top
 * contributors to risk, VaR, the stress table and the breaches. Standard fonts only (Helvetica), so
 * nothing is read from disk and the text can be extracted (pdftotext) as written.
 */
const pct = (v: number | null | undefined, d = 2) =>
  v === null || v === undefined ? 'n/a' : `${(v * 100).toFixed(d)}%`;
const money = (v: number | null | undefined) =>
  v === null || v === undefined
    ? 'n/a'
    : v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const num = (v: number | null | undefined, d = 4) => (v === null || v === undefined ? 'n/a' : v.toFixed(d));

/** Rows of each table in the PDF: with these caps every report fits on one or two A4 pages. */
export const MAX_ROWS = 12;

export function renderPdf(d: ReportData): Promise<Buffer> {
  const doc = new PDFDocument({
    size: 'A4',
    margin: 40,
    info: { Title: `Risk report ${d.portfolio.name} ${d.date}` },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  const left = 40;
  const width = doc.page.width - 80;
  const heading = (t: string) => {
    if (doc.y > doc.page.height - 120) doc.addPage();
    doc.moveDown(0.6).font('Helvetica-Bold').fontSize(12).fillColor('#000').text(t, left);
    doc.font('Helvetica').fontSize(9);
  };
  const bottom = doc.page.height - 40;
  const row = (cells: string[], widths: number[], bold = false) => {
    // a text drawn below the bottom margin makes pdfkit open a page per call: break once, here
    if (doc.y + 13 > bottom) doc.addPage();
    const y = doc.y;
    let x = left;
    doc.font(bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(9);
    cells.forEach((c, i) => {
      doc.text(c, x, y, { width: widths[i]! - 4, lineBreak: false, align: i === 0 ? 'left' : 'right' });
      x += widths[i]!;
    });
    doc.x = left;
    doc.y = y + 13;
  };
  const r = d.risk;
  const more = (n: number) => {
    if (n > MAX_ROWS)
      doc
        .font('Helvetica')
        .fontSize(9)
        .text(`… and ${n - MAX_ROWS} more (see the workbook).`, left);
  };

  doc.font('Helvetica-Bold').fontSize(16).text(`Risk report: ${d.portfolio.name}`, left);
  doc
    .font('Helvetica')
    .fontSize(10)
    .text(`As of ${d.date}  ·  benchmark ${d.benchmark}  ·  ${d.portfolio.currency}`);

  heading('Headline');
  const w4 = [130, 110, 130, 110];
  row(['Equity', money(d.equity), 'Total risk', pct(r?.risk.total_risk)], w4);
  row(['Daily P&L', money(d.dailyPnl), 'Factor risk', pct(r?.risk.factor_risk)], w4);
  row(['Daily return', pct(d.dailyReturn), 'Specific risk', pct(r?.risk.specific_risk)], w4);
  row(['Active return', pct(d.activeReturn), 'Tracking error', pct(d.trackingError)], w4);

  heading('Exposures (bars: exposure; active in brackets)');
  const maxAbs = Math.max(0.01, ...d.exposures.map((e) => Math.abs(e.exposure)));
  const barX = left + 260;
  const barHalf = (width - 270) / 2;
  for (const e of d.exposures) {
    const y = doc.y;
    doc.text(e.factor, left, y, { width: 120, lineBreak: false });
    doc.text(`${num(e.exposure)} (${num(e.active)})`, left + 120, y, {
      width: 130,
      align: 'right',
      lineBreak: false,
    });
    const len = (Math.abs(e.exposure) / maxAbs) * barHalf;
    const mid = barX + barHalf;
    doc
      .rect(e.exposure >= 0 ? mid : mid - len, y + 1, len, 8)
      .fill(e.exposure >= 0 ? '#2f6fb3' : '#c0504d')
      .fillColor('#000');
    doc
      .moveTo(mid, y)
      .lineTo(mid, y + 10)
      .stroke('#888');
    doc.x = left;
    doc.y = y + 13;
  }

  heading('Top contributors to risk');
  const w3 = [200, 130, 130];
  row(['Position / factor', 'Contribution', 'Share of risk'], w3, true);
  const top = r
    ? [
        ...r.risk.positions.map((p) => ({ n: p.symbol, c: p.contribution, p: p.percent })),
        ...r.risk.factors.map((f) => ({ n: `factor ${f.factor}`, c: f.contribution, p: f.percent })),
      ]
        .sort((a, b) => Math.abs(b.c) - Math.abs(a.c))
        .slice(0, 8)
    : [];
  for (const t of top) row([t.n, pct(t.c), pct(t.p, 1)], w3);
  if (!r) doc.text('No risk report is stored for this date.');

  heading('Value at risk (1 day)');
  const w5 = [110, 100, 100, 100, 100];
  row(['Method', 'VaR 95%', 'ES 95%', 'VaR 99%', 'ES 99%'], w5, true);
  if (r)
    for (const m of ['parametric', 'historical'] as const)
      row(
        [m, money(r.var[m].var_95), money(r.var[m].es_95), money(r.var[m].var_99), money(r.var[m].es_99)],
        w5,
      );

  heading('Stress tests');
  const ws = [240, 120, 100];
  row(['Scenario', 'P&L', '% equity'], ws, true);
  const stress = r?.stress ?? [];
  for (const s of stress.slice(0, MAX_ROWS))
    row(
      [
        s.scenario,
        s.status === 'applied' ? money(s.pnl) : 'n/a',
        s.status === 'applied' ? pct(s.pnl_percent) : 'n/a',
      ],
      ws,
    );
  more(stress.length);

  // a bound or value in its metric's unit: VaR in money, the others as plain numbers
  const metricOf = new Map(d.limits.map((l) => [l.id, l.metric]));
  const inUnit = (metric: string | undefined, v: number | null) => (metric === 'var' ? money(v) : num(v));
  heading(`Limits on ${d.date}`);
  const wl = [170, 90, 80, 80, 80];
  if (d.limits.length === 0) doc.text('None set.', left);
  else {
    row(['Limit', 'Value', 'Lower', 'Upper', 'State'], wl, true);
    const limits = [...d.limits].sort((a, b) => Number(b.breached) - Number(a.breached));
    for (const l of limits.slice(0, MAX_ROWS))
      row(
        [
          l.name,
          inUnit(l.metric, l.value),
          inUnit(l.metric, l.lower),
          inUnit(l.metric, l.upper),
          l.breached ? 'BREACHED' : l.value === null ? 'no value' : 'within',
        ],
        wl,
      );
    more(limits.length);
  }

  // one line per limit, not per day: thirty days of daily breaches would fill pages
  heading(`Breaches (30 days to ${d.date})`);
  const wb = [170, 60, 80, 90, 90];
  if (d.breaches.length === 0) doc.text('None.', left);
  else {
    const byLimit = new Map<number, { name: string; days: number; last: (typeof d.breaches)[number] }>();
    for (const b of d.breaches) {
      const g = byLimit.get(b.limit_id);
      if (!g) byLimit.set(b.limit_id, { name: b.name, days: 1, last: b });
      else {
        g.days++;
        if (b.date > g.last.date) g.last = b;
      }
    }
    row(['Limit', 'Days', 'Last breach', 'Value then', 'Bound broken'], wb, true);
    const groups = [...byLimit.entries()].sort((a, b) => b[1].days - a[1].days);
    for (const [id, g] of groups.slice(0, MAX_ROWS)) {
      const m = metricOf.get(id);
      const broken = g.last.upper !== null && g.last.value > g.last.upper ? g.last.upper : g.last.lower;
      row([g.name, String(g.days), g.last.date, inUnit(m, g.last.value), inUnit(m, broken)], wb);
    }
    more(groups.length);
  }
  doc.end();
  return done;
}
