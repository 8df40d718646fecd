import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import type { Database } from '../db/schema.ts';
import { importCompanies } from '../imports/companies.ts';
import { importPortfolio } from '../imports/portfolio.ts';
import { importPrices } from '../imports/prices.ts';
import { createUser } from '../users/users.ts';
import { generateDemoMarket, RIDGE_PROXIES, type DemoMarket, type DemoOptions } from './market.ts';

export const DEMO_USER = 'demo';

export interface DemoLoadResult {
  folder: string;
  symbols: number;
  dates: number;
  priceRows: number;
  portfolios: number;
}

const csvLine = (values: readonly (string | number | null)[]) =>
  values.map((v) => (v === null ? '' : String(v))).join(',');

/**
 * Writes the demo market as ordinary input files (`prices.csv`, `companies.csv`, one CSV per
 * portfolio, and `planted-betas.csv` for people to compare against) and loads them through the same
 * importers a user would run, so the demo also exercises the import path.
 */
export function writeDemoFiles(
  m: DemoMarket,
  folder: string,
): { prices: string; companies: string; portfolios: string[] } {
  mkdirSync(folder, { recursive: true });
  const prices = path.join(folder, 'prices.csv');
  const lines = ['symbol,date,close'];
  m.symbols.forEach((s, i) => m.dates.forEach((d, t) => lines.push(`${s},${d},${m.closes[i]![t]}`)));
  writeFileSync(prices, lines.join('\n') + '\n');

  const companies = path.join(folder, 'companies.csv');
  writeFileSync(
    companies,
    [
      'symbol,company_name,sector,industry,market_cap,enterprise_value,pe_ratio,ps_ratio,pb_ratio',
      ...m.companies.map((c) =>
        csvLine([
          c.symbol,
          c.companyName,
          `"${c.sector}"`,
          `"${c.industry}"`,
          c.marketCap,
          c.enterpriseValue,
          c.peRatio,
          c.psRatio,
          c.pbRatio,
        ]),
      ),
    ].join('\n') + '\n',
  );

  writeFileSync(
    path.join(folder, 'planted-betas.csv'),
    [
      'symbol,proxy,beta',
      ...m.stocks.flatMap((s) => RIDGE_PROXIES.map((p, j) => `${s.symbol},${p},${s.betas[j]}`)),
    ].join('\n') + '\n',
  );

  const portfolios = m.portfolios.map((p) => {
    const file = path.join(folder, `portfolio-${p.name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}.csv`);
    writeFileSync(
      file,
      [
        'symbol,position_type,quantity,entry_price,entry_date,underlying_symbol,strike_price,expiration_date,implied_volatility',
        ...p.positions.map((x) =>
          csvLine([
            x.symbol,
            x.positionType,
            x.quantity,
            x.entryPrice,
            x.entryDate,
            x.underlyingSymbol,
            x.strikePrice,
            x.expirationDate,
            x.impliedVolatility,
          ]),
        ),
      ].join('\n') + '\n',
    );
    return file;
  });
  return { prices, companies, portfolios };
}

export async function loadDemoMarket(
  db: Kysely<Database>,
  pool: pg.Pool,
  folder: string,
  demoPassword: string,
  options: DemoOptions = {},
): Promise<DemoLoadResult> {
  const market = generateDemoMarket(options);
  const files = writeDemoFiles(market, folder);
  const prices = await importPrices(pool, files.prices);
  if (prices.failures.length > 0) throw prices.failures[0]!;
  await importCompanies(pool, files.companies);
  const existing = await db
    .selectFrom('users')
    .select('id')
    .where('username', '=', DEMO_USER)
    .executeTakeFirst();
  if (!existing) await createUser(db, { username: DEMO_USER, password: demoPassword, demoPassword: true });
  for (const [i, file] of files.portfolios.entries()) {
    const p = market.portfolios[i]!;
    await importPortfolio(pool, file, { name: p.name, owner: DEMO_USER, equity: p.equity });
  }
  return {
    folder,
    symbols: market.symbols.length,
    dates: market.dates.length,
    priceRows: prices.results.reduce((s, r) => s + r.rows, 0),
    portfolios: market.portfolios.length,
  };
}
