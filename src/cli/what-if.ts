import { parsePositionsCsv } from '../imports/portfolio.ts';
import { isOption, type Position } from '../portfolios/position.ts';
import { unknownSymbols } from '../universe.ts';
import { whatIf as runWhatIf } from '../portfolios/run.ts';
import { formatTable } from '../table.ts';
import { formatRiskDay } from './risk.ts';
import { dateOption, num, onePath, pct, positiveNumber, type CommandModule } from './options.ts';

export const whatIf: CommandModule = {
  options: { date: { type: 'string' }, equity: { type: 'string' } },
  run: async ({ values, positionals, db }) => {
    const date = dateOption(values);
    const equity = positiveNumber(values, 'equity') ?? 1_000_000;
    const file = onePath(positionals, 'a portfolio positions CSV');
    const parsed = await parsePositionsCsv(file);
    const d = await db();
    // Every bad line at once: the file's own problems and the symbols the store does not know.
    const betaSymbol = (p: Position) => (isOption(p.positionType) ? p.underlyingSymbol : p.symbol);
    const unknown = await unknownSymbols(
      d.pool,
      parsed.positions.map((x) => betaSymbol(x.position)).filter((s): s is string => !!s),
    );
    for (const { line, position } of parsed.positions) {
      const s = betaSymbol(position);
      if (s && unknown.has(s))
        parsed.problems.add(
          line,
          isOption(position.positionType) ? 'underlying_symbol' : 'symbol',
          `unknown symbol ${s} (not in the universe)`,
        );
    }
    parsed.problems.throwIfAny('nothing computed');
    const positions = parsed.positions.map((x, i) => ({ ...x.position, id: i + 1 }));
    const r = await runWhatIf(d.db, d.pool, positions, date, equity);
    const { day, model } = r;
    console.log(
      `What-if on ${r.date} (betas of ${r.betasDate ?? 'none'}), equity ${num(day.snapshot.equity)}\n`,
    );
    console.log(
      formatTable(
        ['symbol', 'type', 'quantity', 'price', 'delta', 'exposure', 'weight'],
        day.values.map((v, i) => [
          v.symbol,
          positions[i]!.positionType,
          num(positions[i]!.quantity, 0),
          num(v.price),
          v.option ? num(v.option.delta, 4) : v.expired ? 'expired' : '1',
          num(v.exposure),
          pct(v.exposure === null ? null : v.exposure / day.snapshot.equity),
        ]),
      ),
    );
    console.log('');
    console.log(
      formatTable(
        ['factor', 'exposure', 'dollar exposure', 'positions missing a beta'],
        model.factors.map((f, i) => [
          f.name,
          num(day.exposure.exposure[i]!, 4),
          num(day.exposure.dollar[i]!),
          day.exposure.missing[i]!.map((m) => m.symbol).join(' ') || '-',
        ]),
      ),
    );
    if (r.risk) console.log(`\n${formatRiskDay(r.risk, 'the book')}`);
    return 0;
  },
};
