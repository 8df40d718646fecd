import type pg from 'pg';
import type { FactorModel } from '../factors/model.ts';
import { marketProxy, runRiskModel } from './model.ts';
import type { RiskSettings } from './report.ts';
import { loadScenarios, type Scenario } from './scenarios.ts';
import {
  loadClosesOn,
  loadReturnHistory,
  loadRiskInputs,
  loadRiskModel,
  type ReturnHistory,
} from './store.ts';
import type { RiskModel } from './types.ts';

/** Trading days of the historical VaR sample. */
export const HISTORICAL_DAYS = 250;

/**
 * The inputs of a date's risk reports that do not depend on any portfolio (METHODOLOGY.md 10–13):
 * the risk model, ridge betas and specific vols, the `HISTORICAL_DAYS`-day return panel as one
 * matrix, and the scenario windows' closes. Read once per block by the portfolio stage (for the
 * symbols it holds) and once per served date by what-if (for every symbol, then kept in memory).
 */
export interface DayPanel {
  date: string;
  riskModel: RiskModel;
  settings: RiskSettings;
  scenarios: Scenario[];
  /** Null: every symbol of the date was read; else the symbols asked for (with proxies, benchmark). */
  symbols: ReadonlySet<string> | null;
  history: ReturnHistory;
  betas: Map<string, Float64Array>;
  specific: Map<string, number>;
  /** Closes on the historical scenarios' start and end dates, key `symbol date`. */
  closes: Map<string, number>;
}

/**
 * Where a day panel's return history and scenario closes come from: the database, one read each per
 * day (`databaseReads`), or a matrix held for a block of days (block-panel.ts). Either gives the
 * same numbers for the symbols asked for; a source may hold more symbols than asked (each is looked
 * up by name).
 */
export interface PanelReads {
  /** The `days` daily returns ending on `date` (`loadReturnHistory`). */
  history(
    calendarSymbol: string,
    date: string,
    days: number,
    symbols: readonly string[] | null,
  ): Promise<ReturnHistory>;
  /** Closes on the given dates, key `symbol date` (`loadClosesOn`). */
  closesOn(symbols: readonly string[] | null, dates: readonly string[]): Promise<Map<string, number>>;
}

/** A day's reads straight from the database. */
export function databaseReads(pool: pg.Pool): PanelReads {
  return {
    history: (calendarSymbol, date, days, symbols) =>
      loadReturnHistory(pool, calendarSymbol, date, days, symbols),
    closesOn: (symbols, dates) => loadClosesOn(pool, symbols, dates),
  };
}

/**
 * The day's panel in a handful of bulk reads (the risk model is computed and stored here when the
 * day has none yet). `symbols` null reads every symbol. Null when no risk model can be formed.
 * `reads` gives the returns and scenario closes (default: the database).
 */
export async function loadDayPanel(
  db: Parameters<typeof runRiskModel>[0],
  pool: pg.Pool,
  model: FactorModel,
  date: string,
  settings: RiskSettings,
  symbols: readonly string[] | null,
  reads: PanelReads = databaseReads(pool),
): Promise<DayPanel | null> {
  let riskModel = await loadRiskModel(pool, date, settings.halfLife, true);
  if (!riskModel) {
    await runRiskModel(db, pool, { date, halfLife: settings.halfLife });
    riskModel = await loadRiskModel(pool, date, settings.halfLife, true);
  }
  if (!riskModel) return null;
  const wanted = symbols
    ? [...new Set([...symbols, ...riskModel.proxies, settings.benchmark, marketProxy(model)])]
    : null;
  const scenarios = settings.scenarios ?? loadScenarios();
  const windowDates = scenarios.flatMap((s) => (s.kind === 'historical' ? [s.start, s.end] : []));
  const [inputs, history, closes] = await Promise.all([
    loadRiskInputs(pool, date, riskModel.factors, wanted),
    reads.history(model.settings.calendarSymbol, date, HISTORICAL_DAYS, wanted),
    reads.closesOn(wanted, windowDates),
  ]);
  return {
    date,
    riskModel,
    settings,
    scenarios,
    symbols: wanted ? new Set(wanted) : null,
    history,
    betas: inputs.betas,
    specific: inputs.specific,
    closes,
  };
}
