import { fmtPct, fmtUsd } from '../format.ts';

export interface Exposure {
  factor: string;
  exposure: number;
  dollar_exposure: number;
  positions_missing?: unknown[];
}

/**
 * Factor exposures as horizontal bars around zero: percent of equity and dollars (not coloured like
 * P&L: the sign is the bar's side). With `onSelect`, a factor's name opens the positions behind it.
 */
export function ExposureBars({
  exposures,
  selected,
  onSelect,
}: {
  exposures: Exposure[];
  selected?: string | null;
  onSelect?: (factor: string) => void;
}) {
  const max = Math.max(0.01, ...exposures.map((e) => Math.abs(e.exposure)));
  return (
    <table className="bars" aria-label="Factor exposures">
      <thead>
        <tr>
          <th className="text">Factor</th>
          <th className="bar-cell">Exposure</th>
          <th>% equity</th>
          <th>Dollars</th>
        </tr>
      </thead>
      <tbody>
        {exposures.map((e) => {
          const w = (Math.abs(e.exposure) / max) * 50;
          return (
            <tr key={e.factor} data-factor={e.factor} aria-selected={selected === e.factor}>
              <td className="text">
                {onSelect ? (
                  <button
                    type="button"
                    className="link"
                    title="Show the positions behind this exposure"
                    aria-expanded={selected === e.factor}
                    onClick={() => onSelect(e.factor)}
                  >
                    {e.factor}
                  </button>
                ) : (
                  e.factor
                )}
                {e.positions_missing && e.positions_missing.length > 0 && (
                  <span className="muted" title="positions without a beta for this factor">
                    {' '}
                    ({e.positions_missing.length} missing)
                  </span>
                )}
              </td>
              <td className="bar-cell">
                <div className="bar-track">
                  <div
                    className={`bar ${e.exposure >= 0 ? 'pos-bg' : 'neg-bg'}`}
                    style={{ left: e.exposure >= 0 ? '50%' : `${50 - w}%`, width: `${w}%` }}
                  />
                </div>
              </td>
              <td className="num">{fmtPct(e.exposure, 1)}</td>
              <td className="num">{fmtUsd(e.dollar_exposure)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
