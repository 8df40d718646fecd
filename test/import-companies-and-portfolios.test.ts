import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ImportError } from '../src/imports/csv.ts';
import { importCompanies } from '../src/imports/companies.ts';
import { importPortfolio } from '../src/imports/portfolio.ts';
import { importPriceFile } from '../src/imports/prices.ts';
import { createUser } from '../src/users/users.ts';
import { createTestDb, type TestDb } from './helpers/db.ts';
import { scratchDir, writeLines } from './helpers/files.ts';

let t: TestDb;
const dir = scratchDir();
before(async () => {
  t = await createTestDb();
  await createUser(t.db, { username: 'pm', password: 'correct horse' });
});
after(async () => t.close());

async function rejectedWith(p: Promise<unknown>, message: RegExp): Promise<void> {
  const e = await p.then(
    () => assert.fail('should have been rejected'),
    (err: unknown) => err,
  );
  assert.ok(e instanceof ImportError, String(e));
  assert.match(e.message, message);
}

describe('import companies', () => {
  const header =
    'symbol,company_name,sector,industry,market_cap,market_cap_date,price_on_market_cap_date,pe_ratio,website';

  it('loads the companies.csv columns, keeps extra columns, and marks priced symbols without a profile as ETFs', async () => {
    await importPriceFile(
      t.pool,
      writeLines(dir, 'p.csv', [
        'symbol,date,close',
        'ACME,2024-01-02,10',
        'FUND,2024-01-02,50',
        'SPY,2024-01-02,470',
      ]),
    );
    const file = writeLines(dir, 'companies.csv', [
      header,
      'ACME,"Acme, Inc.",Industrials,Machinery,1500000000,2024-12-20,10.5,-12.5,acme.example',
    ]);
    const r = await importCompanies(t.pool, file);
    assert.deepEqual([r.rows, r.written], [1, 1]);
    const p = await t.db
      .selectFrom('company_profiles')
      .selectAll()
      .where('symbol', '=', 'ACME')
      .executeTakeFirstOrThrow();
    assert.deepEqual(
      [p.company_name, p.sector, p.market_cap, p.market_cap_date, p.pe_ratio, p.extra],
      ['Acme, Inc.', 'Industrials', 1.5e9, '2024-12-20', -12.5, { website: 'acme.example' }],
    );
    const types = await t.pool.query(
      'SELECT symbol, asset_type, sector FROM symbol_universe ORDER BY symbol',
    );
    assert.deepEqual(types.rows, [
      { symbol: 'ACME', asset_type: 'equity', sector: 'Industrials' },
      { symbol: 'FUND', asset_type: 'etf', sector: null },
      { symbol: 'SPY', asset_type: 'etf', sector: null },
    ]);
    assert.equal((await importCompanies(t.pool, file)).written, 0, 're-import writes nothing');
  });

  it('rejects a bad market cap and a conflicting duplicate, writing nothing', async () => {
    await rejectedWith(
      importCompanies(
        t.pool,
        writeLines(dir, 'c-bad.csv', [header, 'NEWCO,New,Energy,Oil,-5,2024-12-20,1,,']),
      ),
      /c-bad\.csv:2: column "market_cap": must not be negative, got "-5"/,
    );
    await rejectedWith(
      importCompanies(
        t.pool,
        writeLines(dir, 'c-dup.csv', [
          header,
          'NEWCO,New,Energy,Oil,5,2024-12-20,1,,',
          'NEWCO,New,Energy,Oil,6,2024-12-20,1,,',
        ]),
      ),
      /c-dup\.csv:3: column "symbol": duplicate row for NEWCO with a different value \(first at line 2\)/,
    );
    assert.equal((await t.pool.query("SELECT 1 FROM company_profiles WHERE symbol = 'NEWCO'")).rowCount, 0);
  });
});

describe('import portfolio', () => {
  const header =
    'symbol,position_type,quantity,entry_price,entry_date,underlying_symbol,strike_price,expiration_date,implied_volatility';
  const good = [
    header,
    'ACME,LONG,100,10,2024-01-02,,,,',
    'FUND,SHORT,-50,50,2024-01-02,,,,',
    ',LC,5,,2024-01-02,ACME,12,2025-01-17,0.3',
    'ACME250117P00008000,SP,-3,,2024-01-02,ACME,8,2025-01-17,',
  ];

  it('creates the portfolio with its positions; options get an OCC symbol and multiplier 100', async () => {
    const r = await importPortfolio(t.pool, writeLines(dir, 'pf.csv', good), {
      name: 'Main',
      owner: 'pm',
      equity: 1e6,
    });
    assert.deepEqual([r.created, r.positions, r.inserted, r.updated, r.deleted], [true, 4, 4, 0, 0]);
    const rows = await t.db
      .selectFrom('positions')
      .select(['symbol', 'position_type', 'quantity', 'multiplier', 'strike_price'])
      .where('portfolio_id', '=', r.portfolioId)
      .orderBy('id')
      .execute();
    assert.deepEqual(rows, [
      { symbol: 'ACME', position_type: 'LONG', quantity: 100, multiplier: 1, strike_price: null },
      { symbol: 'FUND', position_type: 'SHORT', quantity: -50, multiplier: 1, strike_price: null },
      { symbol: 'ACME250117C00012000', position_type: 'LC', quantity: 5, multiplier: 100, strike_price: 12 },
      { symbol: 'ACME250117P00008000', position_type: 'SP', quantity: -3, multiplier: 100, strike_price: 8 },
    ]);
  });

  it('re-importing changes nothing; a changed file updates, adds and removes positions', async () => {
    // the portfolio as the test above leaves it (created here when this test runs alone)
    await importPortfolio(t.pool, writeLines(dir, 'pf.csv', good), {
      name: 'Main',
      owner: 'pm',
      equity: 1e6,
    });
    const file = writeLines(dir, 'pf2.csv', good);
    const again = await importPortfolio(t.pool, file, { name: 'Main', owner: 'pm' });
    assert.deepEqual([again.created, again.inserted, again.updated, again.deleted], [false, 0, 0, 0]);
    const changed = [
      header,
      'ACME,LONG,150,10,2024-01-02,,,,',
      'ACME,LONG,20,11,2024-02-01,,,,',
      good[3]!,
      good[4]!,
    ];
    const r = await importPortfolio(t.pool, writeLines(dir, 'pf3.csv', changed), {
      name: 'Main',
      owner: 'pm',
    });
    assert.deepEqual([r.inserted, r.updated, r.deleted], [1, 1, 1]);
  });

  const bad: [string, string, RegExp][] = [
    ['unknown position type', 'ACME,BUY,10,,,,,,', /:2: column "position_type": unknown position type "BUY"/],
    [
      'option without strike',
      ',LC,1,,,ACME,,2025-01-17,',
      /:2: column "strike_price": an option needs a strike price/,
    ],
    [
      'option without expiry',
      'X,SP,-1,,,ACME,10,,',
      /:2: column "expiration_date": an option needs an expiration date/,
    ],
    [
      'short with a positive quantity',
      'ACME,SHORT,10,,,,,,',
      /:2: column "quantity": SHORT needs a negative quantity/,
    ],
    ['zero quantity', 'ACME,LONG,0,,,,,,', /:2: column "quantity": must not be zero/],
    [
      'bad expiry date',
      'X,LC,1,,,ACME,10,2025-02-30,',
      /:2: column "expiration_date": unparseable date "2025-02-30"/,
    ],
    ['negative strike', 'X,LC,1,,,ACME,-10,2025-01-17,', /:2: column "strike_price": must be positive/],
  ];
  for (const [name, line, message] of bad) {
    it(`rejects ${name}`, async () => {
      await rejectedWith(
        importPortfolio(t.pool, writeLines(dir, `pf-${name.replace(/ /g, '-')}.csv`, [header, line]), {
          name: `Bad ${name}`,
          owner: 'pm',
          equity: 1000,
        }),
        message,
      );
      assert.equal(
        (await t.pool.query('SELECT 1 FROM portfolios WHERE name = $1', [`Bad ${name}`])).rowCount,
        0,
      );
    });
  }

  it('rejects a duplicate position with a different quantity', async () => {
    await rejectedWith(
      importPortfolio(
        t.pool,
        writeLines(dir, 'pf-dup.csv', [
          header,
          'ACME,LONG,10,,2024-01-02,,,,',
          'ACME,LONG,11,,2024-01-02,,,,',
        ]),
        { name: 'Dup', owner: 'pm', equity: 1000 },
      ),
      /:3: column "quantity": duplicate position ACME LONG entered 2024-01-02 with a different value \(first at line 2\)/,
    );
  });

  it('needs an existing owner and, for a new portfolio, its equity', async () => {
    await assert.rejects(
      importPortfolio(t.pool, writeLines(dir, 'pf-o.csv', good), { name: 'X', owner: 'nobody', equity: 1 }),
      /owner "nobody" does not exist/,
    );
    await assert.rejects(
      importPortfolio(t.pool, writeLines(dir, 'pf-e.csv', good), { name: 'New', owner: 'pm' }),
      /portfolio "New" is new: give its equity balance/,
    );
  });
});
