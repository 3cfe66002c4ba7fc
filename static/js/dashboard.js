// Manager dashboard: the conversion funnel by group and period, agent productivity, channel ROI.
// Filters live in the query string, so a view can be bookmarked and shared.
import { api } from './api.js';
import { t } from './i18n.js';
import { el, formatMoney, pageData, toast } from './ui.js';
import { stageLabels } from './console_labels.js';
import { chart, funnelOption, officeToday, percent } from './dashboard_charts.js';

const config = pageData('dashboard-data');
const form = document.getElementById('report-filters');
const funnel = chart(document.getElementById('funnel-chart'));

function addDays(day, n) {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

function initialFilters(today) {
  const query = new URLSearchParams(window.location.search);
  form.elements.group_by.value = query.get('group_by') || 'source';
  form.elements.from.value = query.get('from') || addDays(today, -29);
  form.elements.to.value = query.get('to') || today;
}

/** The API's period: `to` is exclusive, the form's last day is included. */
function period() {
  return { from: form.elements.from.value, to: addDays(form.elements.to.value, 1) };
}

async function refresh() {
  const groupBy = form.elements.group_by.value;
  const query = new URLSearchParams({ group_by: groupBy, from: form.elements.from.value, to: form.elements.to.value });
  window.history.replaceState(null, '', `?${query}`);
  try {
    const [report, agents, channels] = await Promise.all([
      api.get('reports/funnel', { ...period(), group_by: groupBy }),
      api.get('reports/agents', period()),
      api.get('reports/channels', period()),
    ]);
    showFunnel(report);
    showAgents(agents.agents);
    showChannels(channels.channels);
  } catch (err) {
    toast(err.message, 'error');
  }
}

function showFunnel(report) {
  funnel.setOption(funnelOption(report.total), true);
  const labels = stageLabels();
  document.getElementById('funnel-total').replaceChildren(
    ...report.total.stages.map((s) =>
      el(
        'li',
        { 'data-stage': s.stage },
        el('span', { class: 'stage-name' }, labels[s.stage]),
        el('b', { class: 'stage-count', 'data-testid': `stage-${s.stage}` }, String(s.count)),
        el('span', { class: 'stage-rate' }, percent(s.conversion)),
      ),
    ),
    el('li', { class: 'closed' }, el('span', {}, t('Lost')), el('b', {}, String(report.total.lost))),
  );
  const stageColumns = config.stages.map((stage) => [
    labels[stage],
    (g) => {
      const s = g.stages.find((x) => x.stage === stage);
      return s ? `${s.count}${s.conversion !== null ? ` · ${percent(s.conversion)}` : ''}` : '';
    },
  ]);
  fillTable('funnel-groups', report.groups, [
    [t('Group'), (g) => g.label ?? (g.key === null ? t('None') : g.key)],
    [t('Leads'), (g) => g.leads, 'num'],
    ...stageColumns,
    [t('Lost'), (g) => g.lost, 'num'],
    [t('Rejected'), (g) => g.rejected, 'num'],
  ]);
}

function talkTime(seconds) {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return h ? `${h}${t('h')} ${m}${t('min')}` : `${m}${t('min')} ${seconds % 60}${t('s')}`;
}

function showAgents(rows) {
  fillTable('agent-table', rows, [
    [t('Agent'), (r) => r.display_name],
    [t('Team'), (r) => r.team_name || '—'],
    [t('Calls'), (r) => r.calls, 'num'],
    [t('Connected'), (r) => r.connected, 'num'],
    [t('Connect rate'), (r) => percent(r.connect_rate), 'num'],
    [t('Talk time'), (r) => talkTime(r.talk_seconds), 'num'],
    [t('Follow-ups'), (r) => r.followups, 'num'],
    [t('Applications'), (r) => r.applications, 'num'],
    [t('Disbursed amount'), (r) => formatMoney(r.disbursed_amount), 'num'],
  ]);
}

function showChannels(rows) {
  fillTable('channel-table', rows, [
    [t('Source'), (r) => r.source],
    [t('Leads'), (r) => r.leads, 'num'],
    [t('Cost'), (r) => formatMoney(r.cost), 'num'],
    [t('Cost per lead'), (r) => (r.cost_per_lead === null ? '—' : formatMoney(r.cost_per_lead)), 'num'],
    [t('Applications'), (r) => r.applications, 'num'],
    [t('Disbursed'), (r) => r.disbursed, 'num'],
    [t('Cost per disbursed loan'), (r) => (r.cost_per_disbursed === null ? '—' : formatMoney(r.cost_per_disbursed)), 'num'],
  ]);
}

function fillTable(id, rows, columns) {
  const table = document.getElementById(id);
  table.querySelector('thead').replaceChildren(
    el('tr', {}, ...columns.map(([title, , cls]) => el('th', { class: cls }, title))),
  );
  table.querySelector('tbody').replaceChildren(
    ...(rows.length
      ? rows.map((row) => el('tr', {}, ...columns.map(([, value, cls]) => el('td', { class: cls }, String(value(row))))))
      : [el('tr', {}, el('td', { colspan: String(columns.length), class: 'empty' }, t('No data for this period')))]),
  );
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  refresh();
});
form.elements.group_by.addEventListener('change', refresh);
officeToday()
  .then((today) => {
    initialFilters(today);
    return refresh();
  })
  .catch((err) => toast(err.message, 'error'));
