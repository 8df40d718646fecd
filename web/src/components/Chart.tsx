import { useEffect, useRef, useState } from 'react';
import { fmtAxisUsd, fmtBeta, fmtNum, fmtPct, fmtUsd } from '../format.ts';

type ECharts = typeof import('./echarts').echarts;
type Instance = ReturnType<ECharts['init']>;
let loading: Promise<ECharts> | null = null;
const loadECharts = () => (loading ??= import('./echarts').then((m) => m.echarts));

/**
 * An ECharts chart, loaded on first use. Line series are downsampled (LTTB) to the pixels they have,
 * so a 13-year daily series draws as fast as a month. `data-drawn` is set once the chart rendered.
 */
export function Chart({
  option,
  height = 280,
  label,
}: {
  option: Record<string, unknown>;
  height?: number;
  label: string;
}) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<Instance | null>(null);
  const [drawn, setDrawn] = useState(false);
  const [failed, setFailed] = useState<string | null>(null);

  useEffect(() => {
    let disposed = false;
    const dark = window.matchMedia('(prefers-color-scheme: dark)').matches;
    loadECharts().then(
      (echarts) => {
        if (disposed || !el.current) return;
        chart.current ??= echarts.init(el.current, dark ? 'dark' : undefined, { renderer: 'canvas' });
        chart.current.on('finished', () => setDrawn(true));
        chart.current.setOption({ backgroundColor: 'transparent', animation: false, ...option }, true);
      },
      (e: Error) => setFailed(e.message),
    );
    return () => {
      disposed = true;
    };
  }, [option]);

  useEffect(() => {
    const resize = () => chart.current?.resize();
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      chart.current?.dispose();
      chart.current = null;
    };
  }, []);

  if (failed) return <div className="state error">The chart could not load: {failed}</div>;
  return (
    <div
      className="chart"
      role="img"
      aria-label={label}
      data-drawn={drawn ? 'true' : 'false'}
      data-axis-names={axisNames(option)}
    >
      <div ref={el} style={{ height, width: '100%' }} />
    </div>
  );
}

/** The titles of a chart's axes, for readers of the page (and its tests): "Share of total risk". */
function axisNames(option: Record<string, unknown>): string {
  const names = [option.xAxis, option.yAxis]
    .flatMap((a) => (Array.isArray(a) ? a : [a]))
    .map((a) => (a && typeof a === 'object' ? (a as { name?: unknown }).name : undefined))
    .filter((n): n is string => typeof n === 'string');
  return names.join('|');
}

/** How a value axis and its tooltip print numbers. */
export type AxisUnit = 'usd' | 'percent' | 'beta' | 'number' | 'count';

/** Axis labels: compact dollars ($1.2M), whole percents, whole counts, or two decimals. */
export const axisFormatter = (unit: AxisUnit) => (v: number) =>
  unit === 'usd'
    ? fmtAxisUsd(v)
    : unit === 'percent'
      ? `${Number((v * 100).toFixed(1))}%`
      : unit === 'count'
        ? String(Math.round(v))
        : fmtNum(v);
/** Tooltip values: dollars to the unit, percents and betas to two decimals (never 16 digits). */
export const tooltipFormatter = (unit: AxisUnit) => (v: unknown) =>
  typeof v !== 'number'
    ? '—'
    : unit === 'usd'
      ? fmtUsd(v)
      : unit === 'percent'
        ? fmtPct(v)
        : unit === 'beta'
          ? fmtBeta(v)
          : unit === 'count'
            ? String(v)
            : fmtNum(v);

/**
 * Common pieces of a time-series option: a time axis (points placed by their dates, so gaps show as
 * gaps), a value axis with its title and unit, a tooltip in the same unit, a zoom slider.
 */
export function timeSeriesOption(
  dates: string[],
  series: { name: string; data: (number | null)[]; type?: 'line' | 'bar'; area?: boolean }[],
  options: { unit?: AxisUnit; yName?: string; zoom?: boolean; legend?: boolean } = {},
): Record<string, unknown> {
  const unit = options.unit ?? 'number';
  const counts = unit === 'count';
  return {
    grid: {
      left: 64,
      right: 16,
      top: options.legend ? (options.yName ? 64 : 44) : options.yName ? 28 : 16,
      bottom: options.zoom ? 64 : 28,
    },
    tooltip: { trigger: 'axis', valueFormatter: tooltipFormatter(unit) },
    ...(options.legend && { legend: { type: 'scroll', top: 0 } }),
    // one day is the finest tick: daily data never gets 06:00 and 12:00 labels
    xAxis: { type: 'time', minInterval: 24 * 3600 * 1000, axisLabel: { hideOverlap: true } },
    yAxis: {
      type: 'value',
      // counts start at zero with whole-number ticks (no 0.5 breaches)
      ...(counts ? { min: 0, minInterval: 1 } : { scale: true }),
      ...(options.yName && {
        name: options.yName,
        nameLocation: 'end',
        nameTextStyle: { align: 'left' },
      }),
      axisLabel: { formatter: axisFormatter(unit) },
    },
    ...(options.zoom && { dataZoom: [{ type: 'inside' }, { type: 'slider', height: 20, bottom: 8 }] }),
    series: series.map((s) => ({
      name: s.name,
      type: s.type ?? 'line',
      data: dates.map((d, i) => [d, s.data[i] ?? null]),
      showSymbol: dates.length < 3,
      ...(s.type === 'bar' && { barMaxWidth: 24 }),
      ...(s.type !== 'bar' && { sampling: 'lttb', large: true }),
      ...(s.area && { areaStyle: { opacity: 0.15 } }),
    })),
  };
}
