// Big screen (数据大屏) for a wall TV: live KPIs and agent states pushed over /wallboard; the
// funnel, the day by hour and the city ranking re-read from the reports every minute.
import { api } from './api.js';
import { t } from './i18n.js';
import { el, formatTime, showError } from './ui.js';
import { agentStateLabels } from './console_labels.js';
import { chart, funnelOption, hourlyOption, officeToday } from './dashboard_charts.js';
import { LiveFloor, renderKpis } from './dashboard_live.js';

const REPORT_REFRESH_MS = 60000;
const SHOWN_STATES = ['available', 'dialing', 'on_call', 'wrap_up', 'break'];
const funnel = chart(document.getElementById('bs-funnel'), { dark: true });
const hourly = chart(document.getElementById('bs-hourly'), { dark: true });
const status = document.getElementById('live-status');

const floor = new LiveFloor({
  onChange: () => {
    renderKpis(document.getElementById('kpis'), floor.totals());
    const labels = agentStateLabels();
    const counts = Object.fromEntries(SHOWN_STATES.map((s) => [s, 0]));
    for (const a of floor.agents.values()) if (a.state in counts) counts[a.state] += 1;
    document.getElementById('bs-agents').replaceChildren(
      ...SHOWN_STATES.map((s) => el('li', { class: `state-${s}` }, el('span', {}, labels[s]), el('b', {}, String(counts[s])))),
    );
  },
  onStatus: (s) => {
    status.dataset.status = s;
    status.textContent = s === 'connected' ? t('Live') : t('Reconnecting…');
  },
});

async function refreshReports() {
  try {
    // the dashboard's "last 30 days" exactly (whole days in the office's zone)
    const [report, cities, day] = await Promise.all([
      api.get('reports/funnel', { group_by: 'source', period: 'last_30_days' }),
      api.get('reports/funnel', { group_by: 'city', period: 'last_30_days' }),
      api.get('reports/hourly'),
    ]);
    funnel.setOption(funnelOption(report.total, { dark: true }), true);
    showFunnelFigures(report.total);
    hourly.setOption(hourlyOption(day, { dark: true }), true);
    showCities(cities.groups);
  } catch (err) {
    showError(err);
  }
}

function showFunnelFigures(total) {
  const applied = total.stages.find((s) => s.stage === 'applied');
  document.getElementById('bs-funnel-figures').replaceChildren(
    el('span', {}, `${t('Leads')} `, el('b', { 'data-testid': 'bs-leads' }, String(total.leads))),
    el('span', {}, `${t('Applied')} `, el('b', { 'data-testid': 'bs-applied' }, String(applied ? applied.count : 0))),
  );
}

function showCities(groups) {
  const ranked = groups
    .filter((g) => g.key !== null)
    .sort((a, b) => b.leads - a.leads)
    .slice(0, 8);
  const top = ranked.length ? ranked[0].leads : 1;
  document.getElementById('bs-cities').replaceChildren(
    ...ranked.map((g) => {
      const applied = g.stages.find((s) => s.stage === 'applied');
      return el(
        'li',
        {},
        el('span', { class: 'city' }, g.label || g.key),
        el('span', { class: 'bar' }, el('i', { style: `width:${Math.round((100 * g.leads) / top)}%` })),
        el('b', {}, String(g.leads)),
        el('small', {}, `${t('Applied')} ${applied ? applied.count : 0}`),
      );
    }),
  );
}

function tick() {
  document.getElementById('bs-clock').textContent = formatTime(new Date().toISOString(), { seconds: true });
}

tick();
setInterval(tick, 1000);
refreshReports();
setInterval(refreshReports, REPORT_REFRESH_MS);
officeToday()
  .then((today) => floor.loadRoster(today))
  .catch((err) => showError(err));
