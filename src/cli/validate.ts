import { loadModel } from '../factors/model.ts';
import { findPortfolio } from '../risk/store.ts';
import {
  DEFAULT_WINDOW,
  MAX_WINDOW,
  MIN_WINDOW,
  validatePortfolioWindow,
  validateRiskModel,
  type PortfolioValidationAnswer,
  type RiskModelValidation,
} from '../risk/validation/report.ts';
import type { BiasResult, Zone } from '../risk/validation/stats.ts';
import { formatTable } from '../table.ts';
import { optionalDate, str, UsageError, type CommandModule } from './options.ts';

/**
 * `factor-universe validate [PORTFOLIO] [--date D] [--window T]` (METHODOLOGY.md 14): without a
 * portfolio, the risk model's factor bias table and the specific summary; with one (id or name), its
 * bias and VaR backtests with the traffic-light zone in words.
 */

const f3 = (x: number | null) => (x === null ? '—' : x.toFixed(3));
const f2 = (x: number | null) => (x === null ? '—' : x.toFixed(2));
const pValue = (x: number | null) => (x === null ? '—' : x < 0.0001 ? '<0.0001' : x.toFixed(4));
const band = (b: BiasResult) =>
  b.band_low === null ? '—' : `${b.band_low.toFixed(3)} – ${b.band_high!.toFixed(3)}`;
/** The verdict in words: B > 1 means the risk was under-forecast. */
export const verdict = (b: BiasResult): string =>
  b.within_band === null
    ? 'too few days'
    : b.within_band
      ? 'in band'
      : b.bias! > 1
        ? 'OUT: risk under-forecast'
        : 'OUT: risk over-forecast';

const ZONE_WORDS: Record<Zone, string> = {
  green: 'green (model acceptable)',
  yellow: 'yellow (more exceptions than expected: look closer)',
  red: 'red (VaR rejected: far too many exceptions)',
};

export function formatRiskModelValidation(v: RiskModelValidation): string {
  const s = v.specific;
  return [
    `Risk model forecasts against outcomes, ${v.window} trading days ending ${v.as_of ?? '(no date)'}` +
      ` (${v.days} days in the window); bias B should lie in 1 ± sqrt(2/n)`,
    '',
    formatTable(
      ['factor', 'n', 'skipped', 'bias', 'band', 'verdict'],
      v.factors.map((f) => [f.factor, String(f.n), String(f.skipped), f3(f.bias), band(f), verdict(f)]),
    ),
    '',
    `specific risk: median bias ${f3(s.median_bias)} over ${s.symbols} symbols, ` +
      `${s.share_within_band === null ? '—' : `${(s.share_within_band * 100).toFixed(1)}%`} inside their band`,
  ].join('\n');
}

export function formatPortfolioValidation(v: PortfolioValidationAnswer, name: string): string {
  const b = v.bias;
  const out = [
    `Risk forecasts of ${name} against its outcomes, ${v.window} trading days ending ${v.as_of ?? '(no date)'}` +
      ` (${v.days} days in the window)`,
    '',
    `bias ${f3(b.bias)} over n = ${b.n} days (${b.skipped} skipped), band ${band(b)}: ${verdict(b)}`,
    '',
    formatTable(
      [
        'VaR backtest',
        'n',
        'exceptions',
        'expected',
        'LR_uc',
        'p_uc',
        'LR_ind',
        'p_ind',
        'LR_cc',
        'p_cc',
        'zone',
      ],
      v.var_backtests.map((t) => [
        `${t.method} ${Math.round(t.confidence * 100)}%`,
        String(t.n),
        String(t.exceptions),
        t.expected.toFixed(1),
        f2(t.lr_uc),
        pValue(t.p_uc),
        f2(t.lr_ind),
        pValue(t.p_ind),
        f2(t.lr_cc),
        pValue(t.p_cc),
        t.zone === null ? 'none (no days)' : ZONE_WORDS[t.zone],
      ]),
    ),
  ];
  if (v.exceptions.length) {
    const money = (x: number) => x.toLocaleString('en-US', { maximumFractionDigits: 0 });
    out.push(
      '',
      formatTable(
        ['exception', 'method', 'loss', 'VaR (day before)'],
        v.exceptions.map((e) => [
          e.date,
          `${e.method} ${Math.round(e.confidence * 100)}%`,
          money(e.loss),
          money(e.var),
        ]),
      ),
    );
  }
  return out.join('\n');
}

/** `--window`: trading days, 20 to 2,500. */
function windowOption(values: Parameters<typeof str>[0]): number {
  const s = str(values, 'window');
  if (s === undefined) return DEFAULT_WINDOW;
  const n = Number(s);
  if (!Number.isInteger(n) || n < MIN_WINDOW || n > MAX_WINDOW)
    throw new UsageError(
      `--window must be a whole number of trading days from ${MIN_WINDOW} to ${MAX_WINDOW}, got "${s}"`,
    );
  return n;
}

export const validate: CommandModule = {
  options: { date: { type: 'string' }, window: { type: 'string' } },
  run: async ({ values, positionals, config, db }) => {
    if (positionals.length > 1) throw new UsageError('expected at most one portfolio (id or name)');
    const date = optionalDate(values, 'date');
    const window = windowOption(values);
    const d = await db();
    const model = await loadModel(d.db);
    if (positionals.length === 0) {
      console.log(
        formatRiskModelValidation(
          await validateRiskModel(d.pool, model, config().riskHalfLife, date, window),
        ),
      );
      return 0;
    }
    const p = await findPortfolio(d.pool, positionals[0]!);
    if (!p) {
      console.error(`no portfolio "${positionals[0]}"`);
      return 1;
    }
    console.log(
      formatPortfolioValidation(await validatePortfolioWindow(d.pool, model, p.id, date, window), p.name),
    );
    return 0;
  },
};
