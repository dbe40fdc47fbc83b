// One ECharts instance per <Chart>, owned by the component: made on mount, disposed on unmount.
import * as echarts from 'echarts';
import { useEffect, useRef } from 'preact/hooks';
import { html } from './html.js';

// Tests read a chart's data through the same module (import('/ui/vendor/echarts.mjs') is this
// instance: the import map maps 'echarts' to that URL): echarts.getInstanceByDom(el).getOption().

/**
 * A chart: `option` is an ECharts option, applied whole on every change (notMerge), so a
 * series that disappears from the option disappears from the chart. `id` becomes the
 * element's data-chart attribute. `onClick`, when given, gets ECharts' event of a click on a
 * data item (`params.data` is the item as the option gave it).
 */
export function Chart({ option, id, height = 320, onClick }) {
  const ref = useRef(null);
  const chart = useRef(null);
  // Read at the click, so a new handler on each render needs no rebinding.
  const clicked = useRef(onClick);
  clicked.current = onClick;
  useEffect(() => {
    const instance = echarts.init(ref.current, null, { renderer: 'canvas' });
    chart.current = instance;
    instance.on('click', (params) => clicked.current?.(params));
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
