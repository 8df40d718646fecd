import type pg from 'pg';

/** `n` more symbols in the dashboard table for `date`, over the 11 sectors (benchmarks only). */
export async function insertBenchSymbols(pool: pg.Pool, date: string, n: number): Promise<void> {
  await pool.query(
    `INSERT INTO symbol_daily_metrics (symbol, metric_date, current_price, return_1d, return_mtd, return_ytd, return_1m, return_3m, return_1y,
       market_cap, pe_ratio, ps_ratio, pb_ratio, company_name, sector, industry,
       factor_value, factor_growth, factor_momentum, factor_quality, factor_size, factor_low_vol,
       factor_growth_value_spread, factor_momentum_spread, factor_size_spread, factor_quality_spread, factor_market_beta, data_quality_score)
     SELECT 'B' || lpad(g::text, 5, '0'), $1, 10 + random() * 500, random() / 20 - 0.025, random() / 10 - 0.05, random() / 2 - 0.2,
            random() / 10 - 0.05, random() / 5 - 0.1, random() - 0.3, exp(21 + random() * 7), 5 + random() * 40, random() * 10, random() * 8,
            'Bench company ' || g, (ARRAY['Energy','Financials','Health Care','Industrials','Materials','Utilities','Real Estate',
            'Information Technology','Consumer Staples','Consumer Discretionary','Communication Services'])[1 + g % 11], 'Bench industry',
            random() * 2 - 1, random() * 2 - 1, random() * 2 - 1, random() * 2 - 1, random() * 2 - 1, random() * 2 - 1,
            random() * 2 - 1, random() * 2 - 1, random() * 2 - 1, random() * 2 - 1, 0.5 + random(), 100
       FROM generate_series(1, $2::int) g`,
    [date, n],
  );
  await pool.query('ANALYZE symbol_daily_metrics');
}
