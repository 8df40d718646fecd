import { fmtUsd } from '../format.ts';

type Figures = Record<'var_95' | 'es_95' | 'var_99' | 'es_99', number>;

/** One-day VaR and ES (METHODOLOGY.md 11) in dollars, losses positive: parametric beside historical. */
export function VarTable({
  label,
  parametric,
  historical,
}: {
  label: string;
  parametric: Figures;
  historical: Figures & { days: number };
}) {
  return (
    <table className="plain wide" aria-label={label}>
      <thead>
        <tr>
          <th className="text">Loss</th>
          <th>Parametric</th>
          <th>Historical ({historical.days} days)</th>
        </tr>
      </thead>
      <tbody>
        {(
          [
            ['VaR 95%', 'var_95'],
            ['ES 95%', 'es_95'],
            ['VaR 99%', 'var_99'],
            ['ES 99%', 'es_99'],
          ] as const
        ).map(([name, key]) => (
          <tr key={key} data-figure={key}>
            <td className="text">{name}</td>
            <td className="num">{fmtUsd(parametric[key])}</td>
            <td className="num">{fmtUsd(historical[key])}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
