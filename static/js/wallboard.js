// Wallboard: who is available, on a call or on break right now, the calls ringing or talking,
// and today's KPIs; everything arrives over /wallboard as it happens.
import { t } from './i18n.js';
import { el, toast } from './ui.js';
import { agentStateLabels, callStateLabels } from './console_labels.js';
import { LiveFloor, renderKpis, since } from './dashboard_live.js';
import { officeToday } from './dashboard_charts.js';

const ORDER = ['on_call', 'dialing', 'wrap_up', 'available', 'break', 'offline'];
const status = document.getElementById('live-status');
const floor = new LiveFloor({
  onChange: render,
  onStatus: (s) => {
    status.dataset.status = s;
    status.textContent = s === 'connected' ? t('Live') : t('Reconnecting…');
  },
});

function render() {
  renderKpis(document.getElementById('kpis'), floor.totals());
  const states = agentStateLabels();
  const agents = [...floor.agents.entries()].sort(
    ([, a], [, b]) => ORDER.indexOf(a.state) - ORDER.indexOf(b.state) || a.name.localeCompare(b.name),
  );
  const counts = Object.fromEntries(ORDER.map((s) => [s, 0]));
  for (const [, a] of agents) counts[a.state] += 1;
  document.getElementById('state-counts').replaceChildren(
    ...ORDER.filter((s) => s !== 'offline').map((s) =>
      el('li', { class: `state-${s}` }, el('span', {}, states[s]), el('b', {}, String(counts[s]))),
    ),
  );
  document.getElementById('agent-rows').replaceChildren(
    ...agents.map(([id, a]) =>
      el(
        'tr',
        { class: `state-${a.state}`, 'data-agent-id': String(id) },
        el('td', {}, a.name),
        el('td', {}, a.team || '—'),
        el('td', {}, el('span', { class: 'state-pill', 'data-testid': `agent-state-${id}` }, states[a.state] || a.state)),
        el('td', { class: 'num', 'data-since': a.since ? String(a.since) : '' }, a.state === 'offline' ? '—' : since(a.since)),
        el('td', { class: 'num' }, String(a.calls)),
        el('td', { class: 'num' }, String(a.connected)),
      ),
    ),
  );
  const calls = [...floor.calls.values()];
  const callStates = callStateLabels();
  document.getElementById('call-rows').replaceChildren(
    ...(calls.length
      ? calls.map((c) =>
          el(
            'li',
            { class: `call call-${c.state}` },
            el('span', {}, floor.agent(c.agent_id).name),
            el('span', {}, callStates[c.state]),
            el('span', { class: 'num', 'data-since': String(c.answeredAt || c.startedAt) }, since(c.answeredAt || c.startedAt)),
          ),
        )
      : [el('li', { class: 'empty' }, t('No call in progress'))]),
  );
}

// timers move every second without waiting for an event
setInterval(() => {
  for (const cell of document.querySelectorAll('[data-since]')) {
    if (cell.dataset.since) cell.textContent = since(Number(cell.dataset.since));
  }
}, 1000);
officeToday()
  .then((today) => floor.loadRoster(today))
  .catch((err) => toast(err.message, 'error'));
