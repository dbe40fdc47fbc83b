// One ECharts instance per <Chart>, owned by the component: made on mount, disposed on unmount.
import * as echarts from 'echarts';
import { useEffect, useRef } from 'preact/hooks';
import { html } from './html.js';

// Tests read a chart's data through the same module (import('/ui/vendor/echarts.mjs') is this
// instance: the import map maps 'echarts' to that URL): echarts.getInstanceByDom(el).getOption().

/**
 * A chart: `option` is an ECharts option, applied whole on every change (notMerge), so a
 * series that disappears from the option disappears from the chart. `id` becomes the
 * element's data-chart attribute.
 */
export function Chart({ option, id, height = 320 }) {
  const ref = useRef(null);
  const chart = useRef(null);
  useEffect(() => {
    const instance = echarts.init(ref.current, null, { renderer: 'canvas' });
    chart.current = instance;
    const observer = new ResizeObserver(() => instance.resize());
    observer.observe(ref.current);
    return () => {
      observer.disconnect();
      instance.dispose();
      chart.current = null;
    };
  }, []);
  useEffect(() => {
    chart.current?.setOption(option, { notMerge: true });
  }, [option]);
  return html`<div class="chart" data-chart=${id} ref=${ref} style=${{ height: `${height}px` }}></div>`;
}
