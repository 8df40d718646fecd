/** Pieces shared by the validation views (METHODOLOGY.md 14): the zone chip and a bias verdict. */

export type Zone = 'green' | 'yellow' | 'red';

const ZONE_TEXT: Record<Zone, string> = {
  green: 'green: acceptable',
  yellow: 'yellow: look closer',
  red: 'red: rejected',
};

/** The traffic-light zone as a coloured chip with its meaning in words; none without days. */
export function ZoneChip({ zone }: { zone: Zone | null }) {
  if (zone === null) return <span className="muted">no days</span>;
  return (
    <span className={`zone zone-${zone}`} data-zone={zone}>
      {ZONE_TEXT[zone]}
    </span>
  );
}

export interface Bias {
  n: number;
  bias: number | null;
  band_low: number | null;
  band_high: number | null;
  within_band: boolean | null;
}

/** In words: B > 1 means the risk was under-forecast, B < 1 over-forecast. */
export function biasVerdict(b: Bias): string {
  if (b.within_band === null || b.bias === null) return 'too few days to judge';
  if (b.within_band) return 'in band';
  return b.bias > 1 ? 'out of band: risk under-forecast' : 'out of band: risk over-forecast';
}

export function BiasLine({ b, what }: { b: Bias; what: string }) {
  return (
    <>
      {what}: bias <strong>{b.bias === null ? '—' : b.bias.toFixed(3)}</strong> over {b.n} days
      {b.band_low !== null && b.band_high !== null && (
        <>
          , band {b.band_low.toFixed(3)} – {b.band_high.toFixed(3)}
        </>
      )}
      :{' '}
      <span className={b.within_band === false ? 'neg' : b.within_band ? 'pos' : 'muted'}>
        {biasVerdict(b)}
      </span>
    </>
  );
}
