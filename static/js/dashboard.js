// Manager dashboard: the conversion funnel by group and period, agent productivity, channel ROI.
// Filters live in the query string, so a view can be bookmarked and shared.
import { api } from './api.js';
import { t } from './i18n.js';
import { el, formatMoney, pageData, showError } from './ui.js';
import { stageLabels } from './console_labels.js';
import { chart, funnelOption, officeClock, percent } from './dashboard_charts.js';

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
  const custom = query.has('from') || query.has('to');
  form.elements.period.value = custom ? 'custom' : query.get('period') || 'last_30_days';
  form.elements.from.value = query.get('from') || addDays(today, -29);
  form.elements.to.value = query.get('to') || today;
  showCustomDates();
}

function showCustomDates() {
  for (const label of form.querySelectorAll('[data-custom]')) label.hidden = form.elements.period.value !== 'custom';
}

/** The API's period: a named one (the same for every page), or the dates chosen, of which
 * `to` is exclusive while the form's last day is included. */
function period() {
  const named = form.elements.period.value;
  if (named !== 'custom') return { period: named };
  return { from: form.elements.from.value, to: addDays(form.elements.to.value, 1) };
}

/** The period the server worked out, as days: "2026-11-05 – 2026-12-04". */
function showPeriod(resolved, timeZone) {
  const day = (iso) => new Intl.DateTimeFormat('en-CA', { timeZone }).format(new Date(iso));
  const lastDay = new Date(Date.parse(resolved.to) - 1).toISOString();
  document.getElementById('period-shown').textContent = `${day(resolved.from)} – ${day(lastDay)}`;
}

async function refresh() {
  const groupBy = form.elements.group_by.value;
  const chosen = period();
  const shown = chosen.period ? { period: chosen.period } : { from: form.elements.from.value, to: form.elements.to.value };
  window.history.replaceState(null, '', `?${new URLSearchParams({ group_by: groupBy, ...shown })}`);
  try {
    const [report, agents, channels] = await Promise.all([
      api.get('reports/funnel', { ...chosen, group_by: groupBy }),
      api.get('reports/agents', chosen),
      api.get('reports/channels', chosen),
    ]);
    showPeriod(report.period, view.timezone);
    showFunnel(report);
    showAgents(agents.agents);
    showChannels(channels.channels, channels.teams);
  } catch (err) {
    showError(err);
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

const moneyOrDash = (value) => (value === null ? '—' : formatMoney(value));

function showChannels(rows, teams) {
  fillTable('channel-table', rows, [
    [t('Source'), (r) => r.source],
    [t('Leads'), (r) => r.leads, 'num'],
    [t('Cost'), (r) => formatMoney(r.cost), 'num'],
    [t('Cost per lead'), (r) => moneyOrDash(r.cost_per_lead), 'num'],
    [t('Applications'), (r) => r.applications, 'num'],
    [t('Disbursed'), (r) => r.disbursed, 'num'],
    [t('Disbursed amount'), (r) => formatMoney(r.disbursed_amount), 'num'],
    [t('Cost per disbursed loan'), (r) => moneyOrDash(r.cost_per_disbursed), 'num'],
    [t('Fee revenue'), (r) => formatMoney(r.revenue), 'num'],
    [t('Commission'), (r) => formatMoney(r.commission_cost), 'num'],
    [t('ROI'), (r) => percent(r.roi), 'num'],
  ]);
  fillTable('channel-teams', teams, [
    [t('Team'), (r) => r.team || t('None')],
    [t('Disbursed'), (r) => r.disbursed, 'num'],
    [t('Disbursed amount'), (r) => formatMoney(r.disbursed_amount), 'num'],
    [t('Fee revenue'), (r) => formatMoney(r.revenue), 'num'],
    [t('Commission'), (r) => formatMoney(r.commission), 'num'],
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
form.elements.period.addEventListener('change', () => {
  showCustomDates();
  if (form.elements.period.value !== 'custom') refresh();
});
const view = { timezone: 'Asia/Shanghai' };
officeClock()
  .then(({ today, timezone }) => {
    view.timezone = timezone;
    initialFilters(today);
    return refresh();
  })
  .catch((err) => showError(err));
