/**
 * Standard normal CDF by Marsaglia's series (2004): Φ(x) = ½ + φ(x)·(x + x³/3 + x⁵/(3·5) + …),
 * accurate to about 1e-15 over the range used for option deltas. Example: Φ(0) = 0.5, Φ(1.96) ≈ 0.9750.
 */
export function normCdf(x: number): number {
  if (x < -37) return 0;
  if (x > 37) return 1;
  let s = x;
  let t = 0;
  let b = x;
  const q = x * x;
  for (let i = 1; s !== t;) {
    t = s;
    i += 2;
    b *= q / i;
    s = t + b;
  }
  return 0.5 + s * Math.exp(-0.5 * q - 0.9189385332046728 /* ln √(2π) */);
}

export interface OptionInputs {
  call: boolean;
  spot: number;
  strike: number;
  /** Years to expiry (calendar days / 365). */
  years: number;
  /** Continuously compounded risk-free rate. */
  rate: number;
  /** Annualised volatility. */
  vol: number;
  dividendYield?: number;
}

/**
 * Black–Scholes–Merton delta per unit of underlying: call e^(−qT)·N(d1), put e^(−qT)·(N(d1) − 1).
 * Hull's example 19.1 (S = 49, K = 50, r = 5%, σ = 20%, T = 0.3846): call delta 0.522.
 */
export function bsDelta(o: OptionInputs): number {
  const q = o.dividendYield ?? 0;
  const sqrtT = Math.sqrt(o.years);
  const d1 = (Math.log(o.spot / o.strike) + (o.rate - q + (o.vol * o.vol) / 2) * o.years) / (o.vol * sqrtT);
  const carry = Math.exp(-q * o.years);
  return o.call ? carry * normCdf(d1) : carry * (normCdf(d1) - 1);
}
