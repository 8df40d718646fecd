import type { ParseArgsConfig } from 'node:util';
import { loadModel } from '../factors/model.ts';
import { isIsoDate } from '../imports/fields.ts';
import { canonicalSymbol, SYMBOL_PATTERN } from '../imports/symbols.ts';
import { fetchPrices, type SymbolOutcome } from '../market/fetch-prices.ts';
import { fetchProfiles } from '../market/fetch-profiles.ts';
import { createProvider, PROVIDERS } from '../market/providers/index.ts';
import { str, UsageError, type CommandModule, type Values } from './options.ts';

const OPTIONS = {
  provider: { type: 'string' },
  symbols: { type: 'string' },
} satisfies NonNullable<ParseArgsConfig['options']>;

function symbolsOption(v: Values): string[] | undefined {
  const s = str(v, 'symbols');
  if (s === undefined) return undefined;
  const list = s
    .split(',')
    .map((x) => canonicalSymbol(x.trim().toUpperCase()))
    .filter(Boolean);
  const bad = list.filter((x) => !SYMBOL_PATTERN.test(x));
  if (list.length === 0 || bad.length)
    throw new UsageError(
      `--symbols must be a comma-separated list of symbols${bad.length ? `, got "${bad.join(', ')}"` : ''}`,
    );
  return list;
}

function providerOption(v: Values): string | undefined {
  const p = str(v, 'provider');
  if (p !== undefined && !(PROVIDERS as readonly string[]).includes(p))
    throw new UsageError(`--provider must be one of ${PROVIDERS.join(', ')}, got "${p}"`);
  return p;
}

/**
 * Per-symbol progress: a bar redrawn in place on a terminal, one plain line per symbol otherwise.
 */
export function symbolProgress(stream: NodeJS.WriteStream = process.stderr) {
  return (symbol: string, note: string, done: number, total: number): void => {
    if (stream.isTTY) {
      const width = 30;
      const filled = Math.round((done / total) * width);
      stream.write(
        `\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} ${symbol.padEnd(8)}`,
      );
      if (note.startsWith('failed')) stream.write(`\n  ${symbol}: ${note}\n`);
      if (done === total) stream.write('\n');
    } else {
      stream.write(`${done}/${total} ${symbol}: ${note}\n`);
    }
  };
}

const today = () => new Date().toISOString().slice(0, 10);

function describe(o: SymbolOutcome): string {
  if (o.status === 'failed') return `failed: ${o.reason}`;
  if (o.status === 'revised')
    return `history replaced from ${o.revision!.firstChanged} (${o.rows} rows; ${o.revision!.betas} betas and ${o.revision!.metrics} metric rows to recompute, ${o.revision!.repriced} repriced)`;
  if (o.status === 'stored') return `${o.rows} new rows`;
  return o.status === 'not_covered' ? 'not in this source' : 'up to date';
}

export const fetchPricesCommand: CommandModule = {
  options: { ...OPTIONS, since: { type: 'string' } } as NonNullable<ParseArgsConfig['options']>,
  run: async ({ values, db, config: loadConfig }) => {
    const since = str(values, 'since');
    if (since !== undefined && !isIsoDate(since))
      throw new UsageError(`--since must be a date YYYY-MM-DD, got "${since}"`);
    const symbols = symbolsOption(values);
    const config = loadConfig();
    const progress = symbolProgress();
    const provider = createProvider(config, { name: providerOption(values), log: (m) => console.error(m) });
    const d = await db();
    const started = performance.now();
    const r = await fetchPrices(d.pool, {
      provider,
      to: provider.wholeHistory ? '9999-12-31' : today(),
      historyDays: config.marketDataHistoryDays,
      calendarSymbol: (await loadModel(d.db)).settings.calendarSymbol,
      ...(symbols ? { symbols } : {}),
      ...(since ? { since } : {}),
      onSymbol: (o, done, total) => progress(o.symbol, describe(o), done, total),
    });
    const c = r.counts;
    console.log(
      `${r.provider}: ${r.symbols} symbols in ${((performance.now() - started) / 1000).toFixed(1)} s: ` +
        `${c.stored} with new prices, ${c.revised} histories replaced, ${c.unchanged} up to date` +
        (c.not_covered ? `, ${c.not_covered} not in this source` : '') +
        `, ${c.failed} failed; ${r.rows} rows written` +
        (c.failed ? ` (partial success; reasons in market_data_fetch_failures, run ${r.runId})` : ''),
    );
    for (const f of r.failures) console.error(`  ${f.symbol}: ${f.reason}`);
    return c.failed ? 1 : 0;
  },
};

export const fetchProfilesCommand: CommandModule = {
  options: OPTIONS as NonNullable<ParseArgsConfig['options']>,
  run: async ({ values, db, config: loadConfig }) => {
    const symbols = symbolsOption(values);
    const config = loadConfig();
    const provider = createProvider(config, { name: providerOption(values), log: (m) => console.error(m) });
    if (!provider.profile)
      throw new UsageError(`the ${provider.name} provider has no company profiles (use import companies)`);
    const progress = symbolProgress();
    const d = await db();
    const r = await fetchProfiles(d.pool, {
      provider,
      asOf: today(),
      ...(symbols ? { symbols } : {}),
      onSymbol: (symbol, error, done, total) =>
        progress(symbol, error ? `failed: ${error}` : 'ok', done, total),
    });
    console.log(
      `${r.provider}: ${r.symbols} profiles requested, ${r.written} written, ${r.funds} funds skipped, ${r.failures.length} failed` +
        (r.failures.length
          ? ` (partial success; reasons in market_data_fetch_failures, run ${r.runId})`
          : ''),
    );
    for (const f of r.failures) console.error(`  ${f.symbol}: ${f.reason}`);
    return r.failures.length ? 1 : 0;
  },
};
