import { useEffect, useRef, useState } from 'react';

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
    <div className="chart" role="img" aria-label={label} data-drawn={drawn ? 'true' : 'false'}>
      <div ref={el} style={{ height, width: '100%' }} />
    </div>
  );
}

/** Common pieces of a time-series option: a category date axis, a value axis, a tooltip, a zoom slider. */
export function timeSeriesOption(
  dates: string[],
  series: { name: string; data: (number | null)[]; type?: 'line' | 'bar'; area?: boolean }[],
  options: { percent?: boolean; zoom?: boolean; legend?: boolean } = {},
): Record<string, unknown> {
  return {
    grid: { left: 56, right: 16, top: options.legend ? 36 : 16, bottom: options.zoom ? 64 : 28 },
    tooltip: { trigger: 'axis' },
    ...(options.legend && { legend: { type: 'scroll', top: 0 } }),
    xAxis: { type: 'category', data: dates, boundaryGap: series.some((s) => s.type === 'bar') },
    yAxis: {
      type: 'value',
      scale: true,
      axisLabel: options.percent ? { formatter: (v: number) => `${(v * 100).toFixed(0)}%` } : {},
    },
    ...(options.zoom && { dataZoom: [{ type: 'inside' }, { type: 'slider', height: 20, bottom: 8 }] }),
    series: series.map((s) => ({
      name: s.name,
      type: s.type ?? 'line',
      data: s.data,
      showSymbol: false,
      ...(s.type !== 'bar' && { sampling: 'lttb', large: true }),
      ...(s.area && { areaStyle: { opacity: 0.15 } }),
    })),
  };
}
