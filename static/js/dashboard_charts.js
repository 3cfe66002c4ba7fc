// Charts and figures shared by the dashboard, wallboard and big screen (ECharts is the vendored global
// `echarts`, loaded by a classic <script> before the page's module).
import { api } from './api.js';
import { t } from './i18n.js';
import { stageLabels } from './console_labels.js';

/** Today's date (YYYY-MM-DD) in the user's office zone (GET /me), whatever the PC's clock
 * says: the reports read a bare date in that zone, so another zone's "today" can lie ahead of
 * the office's and ask for a period that has not begun. */
export async function officeToday() {
  return (await officeClock()).today;
}

/** The office's zone and today's date in it. */
export async function officeClock() {
  const timezone = (await api.get('me')).org_timezone;
  return { timezone, today: new Intl.DateTimeFormat('en-CA', { timeZone: timezone }).format(new Date()) };
}

/** "0.4512" -> "45.1%"; null (no previous stage) -> "—". */
export function percent(rate) {
  return rate === null || rate === undefined ? '—' : `${(Number(rate) * 100).toFixed(1)}%`;
}

/** A funnel of the report's total: one layer per stage, its width its count against the first
 * stage's (every lead is new), labelled beside it with count and conversion. */
export function funnelOption(total, { dark = false } = {}) {
  const labels = stageLabels();
  const data = total.stages.map((s) => ({
    name: labels[s.stage] || s.stage,
    value: s.count,
    conversion: s.conversion,
  }));
  return {
    backgroundColor: 'transparent',
    tooltip: {
      trigger: 'item',
      formatter: (p) => `${p.name}: ${p.value}<br>${t('Conversion')}: ${percent(p.data.conversion)}`,
    },
    color: ['#2563eb', '#3b82f6', '#0ea5e9', '#14b8a6', '#22c55e', '#eab308'],
    series: [
      {
        type: 'funnel',
        sort: 'none', // the funnel's order, even when a later stage outnumbers an earlier one
        left: '4%',
        width: '58%',
        funnelAlign: 'left',
        // sizes against the first stage (ECharts' default scale is 0-100, which drew every
        // stage above 100 leads full width); the labels sit beside the bars, so a thin bar
        // still reads
        min: 0,
        max: Math.max(1, data.length ? data[0].value : 1),
        minSize: '1%',
        maxSize: '100%',
        gap: 2,
        label: {
          position: 'right',
          color: dark ? '#dbe6f5' : '#1f2933',
          formatter: (p) => `${p.name} ${p.value}${p.data.conversion ? `  (${percent(p.data.conversion)})` : ''}`,
        },
        labelLine: { show: true },
        itemStyle: { borderColor: dark ? '#0b1220' : '#fff', borderWidth: 1 },
        data,
      },
    ],
  };
}

/** Bars of calls per hour with connected calls and disbursements, for one day. */
export function hourlyOption(report, { dark = false } = {}) {
  const axisColor = dark ? '#9fb3d1' : '#4b5563';
  const hours = report.hours.map((h) => `${String(h.hour).padStart(2, '0')}:00`);
  return {
    backgroundColor: 'transparent',
    tooltip: { trigger: 'axis' },
    legend: { textStyle: { color: axisColor }, top: 0 },
    grid: { left: 40, right: 40, top: 36, bottom: 28 },
    xAxis: { type: 'category', data: hours, axisLabel: { color: axisColor } },
    yAxis: [
      { type: 'value', minInterval: 1, axisLabel: { color: axisColor }, splitLine: { lineStyle: { opacity: 0.2 } } },
      { type: 'value', minInterval: 1, axisLabel: { color: axisColor }, splitLine: { show: false } },
    ],
    series: [
      { name: t('Calls'), type: 'bar', data: report.hours.map((h) => h.calls), itemStyle: { color: '#3b82f6' } },
      { name: t('Connected'), type: 'bar', data: report.hours.map((h) => h.connected), itemStyle: { color: '#22c55e' } },
      {
        name: t('Disbursed'),
        type: 'line',
        yAxisIndex: 1,
        data: report.hours.map((h) => h.disbursed),
        itemStyle: { color: '#eab308' },
      },
    ],
  };
}

/** An ECharts instance that follows its element's size. */
export function chart(element, { dark = false } = {}) {
  const instance = window.echarts.init(element, dark ? 'dark' : null, { renderer: 'canvas' });
  new ResizeObserver(() => instance.resize()).observe(element);
  return instance;
}
