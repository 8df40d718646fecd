import type { RiskDay } from '../risk/report.ts';
import { findPortfolio, loadStoredRiskDay } from '../risk/store.ts';
import { formatTable } from '../table.ts';
import { dateOption, UsageError, type CommandModule } from './options.ts';

/** `factor-universe risk PORTFOLIO --date D`: a portfolio's stored risk report, printed. */

const money = (x: number | null) =>
  x === null ? '' : x.toLocaleString('en-US', { minimumFractionDigits: 0, maximumFractionDigits: 0 });
const pct = (x: number | null) => (x === null ? '' : `${(x * 100).toFixed(2)}%`);

/** The report as text: risk, contributions, VaR, stress tests, attribution and hedges. */
export function formatRiskDay(d: RiskDay, name: string): string {
  const r = d.risk;
  const out: string[] = [];
  out.push(
    `Risk of ${name} on ${r.date} (risk model of ${r.risk_model_date}), equity ${money(r.equity)}`,
    '',
    formatTable(
      ['annualised', 'of equity', 'dollars'],
      [
        ['total risk', pct(r.total_risk), money(r.total_risk_dollars)],
        ['factor risk', pct(r.factor_risk), money(r.factor_risk_dollars)],
        ['specific risk', pct(r.specific_risk), money(r.specific_risk_dollars)],
        [`tracking error (${r.benchmark})`, pct(r.tracking_error), money(r.tracking_error_dollars)],
      ],
    ),
    '',
    formatTable(
      ['factor', 'exposure', 'contribution', 'share'],
      r.factors.map((f) => [f.factor, f.exposure.toFixed(4), pct(f.contribution), pct(f.percent)]),
    ),
    '',
    formatTable(
      ['largest positions', 'weight', 'contribution', 'share'],
      [...r.positions]
        .sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution))
        .slice(0, 10)
        .map((p) => [`${p.symbol} (#${p.position_id})`, pct(p.weight), pct(p.contribution), pct(p.percent)]),
    ),
  );
  if (r.missing.length)
    out.push(
      '',
      `left out: ${r.missing.map((m) => `${m.symbol} (#${m.position_id}: ${m.reason})`).join(', ')}`,
    );
  const v = d.var;
  out.push(
    '',
    formatTable(
      ['1-day', 'VaR 95%', 'ES 95%', 'VaR 99%', 'ES 99%'],
      [
        [
          'parametric',
          money(v.parametric.var_95),
          money(v.parametric.es_95),
          money(v.parametric.var_99),
          money(v.parametric.es_99),
        ],
        [
          `historical (${v.historical.days} days)`,
          money(v.historical.var_95),
          money(v.historical.es_95),
          money(v.historical.var_99),
          money(v.historical.es_99),
        ],
      ],
    ),
    '',
    formatTable(
      ['stress scenario', 'kind', 'P&L', 'of equity'],
      d.stress.map((s) => [s.scenario, s.kind, s.pnl === null ? 'n/a' : money(s.pnl), pct(s.pnl_percent)]),
    ),
    ...d.stress.flatMap((s) => (s.reason ? [`  n/a ${s.scenario}: ${s.reason}`] : [])),
  );
  if (d.attribution)
    out.push(
      '',
      formatTable(
        ['P&L of the day', 'dollars'],
        [
          // in the model's factor order (a JSON object read back has its keys reordered)
          ...r.factors.map((f) => [f.factor, money(d.attribution!.factor_pnl[f.factor] ?? null)]),
          ['specific', money(d.attribution.specific_pnl)],
          ['total', money(d.attribution.daily_pnl)],
        ],
      ),
    );
  const h = d.hedges;
  out.push(
    '',
    formatTable(
      [`hedge (factor risk ${pct(h.factor_risk_before)} → ${pct(h.factor_risk_after)})`, 'notional'],
      [
        ...h.etfs.map((e) => [e.symbol, money(e.notional)]),
        ...(h.market_hedge
          ? [
              [
                `market hedge alone: ${h.market_hedge.symbol} (beta ${h.market_hedge.beta.toFixed(3)})`,
                money(h.market_hedge.notional),
              ],
            ]
          : []),
      ],
    ),
  );
  return out.join('\n');
}

export const risk: CommandModule = {
  options: { date: { type: 'string' } },
  run: async ({ values, positionals, db }) => {
    if (positionals.length !== 1) throw new UsageError('expected one portfolio (id or name)');
    const date = dateOption(values);
    const d = await db();
    const p = await findPortfolio(d.pool, positionals[0]!);
    if (!p) {
      console.error(`no portfolio "${positionals[0]}"`);
      return 1;
    }
    const day = await loadStoredRiskDay(d.pool, p.id, date);
    if (!day) {
      console.error(
        `no risk report of ${p.name} on or before ${date}: run "factor-universe batch run --date ${date}" first`,
      );
      return 1;
    }
    console.log(formatRiskDay(day, p.name));
    return 0;
  },
};
