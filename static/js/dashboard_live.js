// The live floor as the /wallboard namespace pushes it: agent states, calls in progress and
// today's KPIs per org. Shared by the wallboard and the big screen; nothing here polls.
import { api } from './api.js';
import { t } from './i18n.js';
import { el } from './ui.js';
import { connectLive } from './socket.js';
import { percent } from './dashboard_charts.js';

export class LiveFloor {
  /** onChange() is called after every event; onStatus(status) with the socket's state. */
  constructor({ onChange, onStatus = () => {} }) {
    this.agents = new Map(); // agent id -> {name, team, state, since, calls, connected}
    this.calls = new Map(); // open call id -> {agent_id, lead_id, state, at, answeredAt}
    this.kpis = new Map(); // org id -> today's figures
    this.onChange = onChange;
    this.live = connectLive(
      '/wallboard',
      {
        agent_states: (data) => this.states(data.agents),
        call_state: (data) => this.call(data),
        kpis: (figures) => {
          this.kpis.set(figures.org_id, figures);
          this.onChange();
        },
      },
      onStatus,
    );
  }

  /** Names, teams and today's counts of every selling agent, from the productivity report. */
  async loadRoster(today) {
    const report = await api.get('reports/agents', { from: today });
    for (const row of report.agents) {
      const known = this.agents.get(row.user_id) || { state: 'offline', since: null };
      this.agents.set(row.user_id, {
        ...known,
        name: row.display_name,
        team: row.team_name,
        calls: row.calls,
        connected: row.connected,
      });
    }
    this.onChange();
  }

  agent(id) {
    if (!this.agents.has(id)) this.agents.set(id, { name: `#${id}`, team: null, state: 'offline', since: null, calls: 0, connected: 0 });
    return this.agents.get(id);
  }

  states(list) {
    for (const s of list) Object.assign(this.agent(s.agent_id), { state: s.state, since: Date.parse(s.since || new Date().toISOString()) });
    this.onChange();
  }

  call(data) {
    const open = this.calls.get(data.call_id);
    const agent = data.agent_id ? this.agent(data.agent_id) : null;
    if (data.state === 'ended') this.calls.delete(data.call_id);
    else if (!open) {
      this.calls.set(data.call_id, { ...data, startedAt: Date.parse(data.at) });
      if (agent) agent.calls += 1;
    } else {
      Object.assign(open, data);
      if (data.state === 'answered' && !open.answeredAt) {
        open.answeredAt = Date.parse(data.at);
        if (agent) agent.connected += 1;
      }
    }
    this.onChange();
  }

  /** Today's KPIs summed over the visible orgs. */
  totals() {
    const sum = { calls: 0, connected: 0, talk_seconds: 0, applications: 0 };
    for (const k of this.kpis.values()) for (const key of Object.keys(sum)) sum[key] += k[key];
    sum.connect_rate = sum.calls ? sum.connected / sum.calls : null;
    return sum;
  }
}

/** The KPI tiles: calls, connected, connect rate, talk time, applications. */
export function renderKpis(container, totals) {
  const tiles = [
    ['calls', t('Calls today'), totals.calls],
    ['connected', t('Connected'), totals.connected],
    ['connect_rate', t('Connect rate'), percent(totals.connect_rate)],
    ['talk', t('Talk time (min)'), Math.round(totals.talk_seconds / 60)],
    ['applications', t('Applications'), totals.applications],
  ];
  container.replaceChildren(
    ...tiles.map(([key, label, value]) =>
      el('div', { class: 'kpi', 'data-kpi': key }, el('span', { class: 'kpi-label' }, label), el('b', { class: 'kpi-value', 'data-testid': `kpi-${key}` }, String(value))),
    ),
  );
}

/** mm:ss since a moment, for "in this state for" and call timers. */
export function since(moment) {
  if (!moment) return '—';
  const s = Math.max(0, Math.floor((Date.now() - moment) / 1000));
  const h = Math.floor(s / 3600);
  const pad = (n) => String(n).padStart(2, '0');
  return `${h ? `${h}:` : ''}${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
}
