import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { withTransaction } from '../db/transaction.ts';
import { numberProblem } from '../imports/fields.ts';
import { runLimited } from '../run-limited.ts';
import { refreshUniverse } from '../universe.ts';
import { fetchableSymbols, recordFailures } from './price-history.ts';
import { ProviderError, type CompanyProfile, type MarketDataProvider } from './providers/types.ts';

export interface FetchProfilesResult {
  runId: string;
  provider: string;
  symbols: number;
  written: number;
  /** Funds (ETFs): answered, not stored as company profiles. */
  funds: number;
  failures: { symbol: string; reason: string }[];
}

/** The importer's rules for profile numbers (imports/companies.ts): these cannot be negative. */
const NON_NEGATIVE: (keyof CompanyProfile)[] = ['marketCap', 'price', 'dividendYield'];
const NUMBERS: (keyof CompanyProfile)[] = [
  'marketCap',
  'price',
  'enterpriseValue',
  'peRatio',
  'psRatio',
  'pbRatio',
  'beta',
  'dividendYield',
];

function profileProblems(p: CompanyProfile): string[] {
  return NUMBERS.flatMap((k) => {
    const v = p[k];
    if (v === null || typeof v !== 'number') return [];
    const problem = numberProblem(v, NON_NEGATIVE.includes(k) ? 'nonNegative' : 'any');
    return problem ? [`${k} ${problem}, got ${v}`] : [];
  });
}

/**
 * Company profiles from the provider into `company_profiles`, one symbol at a time (a failure fails
 * that symbol only, recorded with its reason). What the provider does not have (null) leaves the
 * stored value as it is; `market_cap_date` is the date of the fetch. Funds are not companies and
 * get no profile.
 */
export async function fetchProfiles(
  pool: pg.Pool,
  o: {
    provider: MarketDataProvider;
    asOf: string;
    symbols?: readonly string[];
    runId?: string;
    onSymbol?: (symbol: string, error: string | undefined, done: number, total: number) => void;
  },
): Promise<FetchProfilesResult> {
  const { provider } = o;
  const profile = provider.profile?.bind(provider);
  if (!profile) throw new Error(`the ${provider.name} provider has no company profiles`);
  const runId = o.runId ?? randomUUID();
  const symbols = [...(o.symbols ?? (await fetchableSymbols(pool)))];
  const result: FetchProfilesResult = {
    runId,
    provider: provider.name,
    symbols: symbols.length,
    written: 0,
    funds: 0,
    failures: [],
  };
  const good: CompanyProfile[] = [];
  let done = 0;
  await runLimited(symbols, Math.max(1, provider.limits.concurrency), async (symbol) => {
    let error: string | undefined;
    try {
      const p = await profile(symbol);
      const problems = profileProblems(p);
      if (problems.length) error = `bad values: ${problems.join('; ')}`;
      else if (p.fund) result.funds++;
      else good.push(p);
    } catch (e) {
      if (!(e instanceof ProviderError)) throw e;
      error = e.message;
    }
    if (error) result.failures.push({ symbol, reason: error });
    o.onSymbol?.(symbol, error, ++done, symbols.length);
  });
  if (good.length > 0) {
    result.written = await withTransaction(pool, async (client) => {
      const col = <T>(f: (p: CompanyProfile) => T) => good.map(f);
      const r = await client.query(
        `INSERT INTO company_profiles AS c (symbol, company_name, sector, industry, market_cap, market_cap_date,
            price_on_market_cap_date, enterprise_value, pe_ratio, ps_ratio, pb_ratio, beta, dividend_yield)
         SELECT s, n, sec, ind, mc, CASE WHEN mc IS NULL THEN NULL ELSE $1::date END, px, ev, pe, ps, pb, b, dy
           FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::float8[], $7::float8[], $8::float8[],
                       $9::float8[], $10::float8[], $11::float8[], $12::float8[], $13::float8[])
             AS x(s, n, sec, ind, mc, px, ev, pe, ps, pb, b, dy)
         ON CONFLICT (symbol) DO UPDATE SET
           company_name = COALESCE(EXCLUDED.company_name, c.company_name),
           sector = COALESCE(EXCLUDED.sector, c.sector),
           industry = COALESCE(EXCLUDED.industry, c.industry),
           market_cap = COALESCE(EXCLUDED.market_cap, c.market_cap),
           market_cap_date = COALESCE(EXCLUDED.market_cap_date, c.market_cap_date),
           price_on_market_cap_date = COALESCE(EXCLUDED.price_on_market_cap_date, c.price_on_market_cap_date),
           enterprise_value = COALESCE(EXCLUDED.enterprise_value, c.enterprise_value),
           pe_ratio = COALESCE(EXCLUDED.pe_ratio, c.pe_ratio),
           ps_ratio = COALESCE(EXCLUDED.ps_ratio, c.ps_ratio),
           pb_ratio = COALESCE(EXCLUDED.pb_ratio, c.pb_ratio),
           beta = COALESCE(EXCLUDED.beta, c.beta),
           dividend_yield = COALESCE(EXCLUDED.dividend_yield, c.dividend_yield),
           updated_at = now()`,
        [
          o.asOf,
          col((p) => p.symbol),
          col((p) => p.companyName),
          col((p) => p.sector),
          col((p) => p.industry),
          col((p) => p.marketCap),
          col((p) => p.price),
          col((p) => p.enterpriseValue),
          col((p) => p.peRatio),
          col((p) => p.psRatio),
          col((p) => p.pbRatio),
          col((p) => p.beta),
          col((p) => p.dividendYield),
        ],
      );
      await refreshUniverse(client);
      return r.rowCount ?? 0;
    });
  }
  await recordFailures(pool, runId, provider.name, 'profiles', result.failures);
  return result;
}
