// The console's work lists: promised follow-ups (overdue, later today, upcoming), calls that
// still need an outcome, my private pool and the public pool, each tab with its count. A row
// opens the lead; a public row has a claim button (the claim is atomic on the server).
import { api } from './api.js';
import { t } from './i18n.js';
import { el, formatTime, showError, toast } from './ui.js';
import { stageLabels } from './console_labels.js';

const PER_PAGE = 50;
const scheduled = (when) => () => api.get('followups/scheduled', { when, per_page: PER_PAGE });
const leads = (pool) => () => api.get('leads', { pool, sort: '-score', per_page: PER_PAGE });
const SOURCES = {
  overdue: scheduled('overdue'),
  today: scheduled('today'),
  upcoming: scheduled('upcoming'),
  awaiting: () => api.get('calls/awaiting-outcome', { per_page: PER_PAGE }),
  mine: leads('mine'),
  public: leads('public'),
};

export class WorkLists {
  constructor(root, { onOpen, onClaimed, onAwaiting }) {
    this.root = root;
    this.body = root.querySelector('[data-list-body]');
    this.onOpen = onOpen;
    this.onClaimed = onClaimed;
    this.onAwaiting = onAwaiting;
    this.current = 'today';
    for (const tab of root.querySelectorAll('[data-list]')) {
      tab.addEventListener('click', () => this.show(tab.dataset.list));
    }
  }

  async show(name) {
    this.current = name;
    for (const tab of this.root.querySelectorAll('[data-list]')) {
      tab.setAttribute('aria-selected', String(tab.dataset.list === name));
    }
    await this.refresh();
  }

  /** The list shown and every tab's count. */
  async refresh() {
    await Promise.all([this.refreshList(), this.refreshCounts()]);
  }

  async refreshList() {
    const name = this.current;
    let page;
    try {
      page = await SOURCES[name]();
    } catch (err) {
      showError(err);
      return;
    }
    if (name !== this.current) return; // another tab was chosen meanwhile
    this.setCount(name, page.total);
    this.body.replaceChildren(
      ...(page.items.length
        ? page.items.map((item) => this.row(item, name))
        : [el('li', { class: 'empty' }, t('Nothing here'))]),
    );
  }

  async refreshCounts() {
    const one = { per_page: 1 };
    try {
      const [due, awaiting, mine, pool] = await Promise.all([
        api.get('followups/scheduled/counts'),
        api.get('calls/awaiting-outcome', one),
        api.get('leads', { pool: 'mine', ...one }),
        api.get('leads', { pool: 'public', ...one }),
      ]);
      for (const when of ['overdue', 'today', 'upcoming']) this.setCount(when, due[when]);
      this.setCount('awaiting', awaiting.total);
      this.setCount('mine', mine.total);
      this.setCount('public', pool.total_capped ? `${pool.total}+` : pool.total);
    } catch {
      // counts are a help; the list itself reports its errors
    }
  }

  setCount(name, value) {
    const tab = this.root.querySelector(`[data-list="${name}"]`);
    tab.querySelector('.count').textContent = String(value);
    tab.classList.toggle('alert', name === 'overdue' || name === 'awaiting' ? Number(value) > 0 : false);
  }

  /** A lead's score moved (its card was opened, or it was re-scored): its rows show it. */
  updateScore(leadId, score) {
    for (const cell of this.body.querySelectorAll(`[data-lead-id="${leadId}"] .row-score`)) {
      cell.textContent = String(score);
    }
  }

  row(item, list) {
    if (list === 'awaiting') return this.awaitingRow(item);
    const lead = item.lead || item;
    const stages = stageLabels();
    const when = item.due_at ? formatTime(item.due_at) : '';
    const open = el(
      'button',
      { type: 'button', class: 'row-open', 'data-lead-id': String(lead.id) },
      el('span', { class: 'row-name' }, lead.name_masked || '—'),
      el('span', { class: 'row-phone' }, lead.phone_masked),
      el('span', { class: 'row-meta' }, [lead.city, stages[lead.stage], when].filter(Boolean).join(' · ')),
      el('span', { class: 'row-score' }, String(lead.score)),
    );
    open.addEventListener('click', () => this.onOpen(lead.id));
    const children = [open];
    if (list === 'public') {
      const claim = el('button', { type: 'button', class: 'small', 'data-claim': String(lead.id) }, t('Claim'));
      claim.addEventListener('click', () => this.claim(lead.id, claim));
      children.push(claim);
    }
    return el('li', { class: 'work-row', 'data-lead-id': String(lead.id) }, ...children);
  }

  awaitingRow(call) {
    const open = el(
      'button',
      { type: 'button', class: 'row-open', 'data-call-id': String(call.id) },
      el('span', { class: 'row-name' }, call.lead_name_masked || '—'),
      el('span', { class: 'row-phone' }, call.lead_phone_masked),
      el('span', { class: 'row-meta' }, [formatTime(call.started_at), call.answered_at ? t('Answered') : t('Not answered')].join(' · ')),
    );
    open.addEventListener('click', () => this.onAwaiting(call));
    return el('li', { class: 'work-row', 'data-lead-id': String(call.lead_id) }, open);
  }

  async claim(leadId, button) {
    button.disabled = true;
    try {
      const lead = await api.post(`leads/${leadId}/claim`, {});
      toast(t('Claimed: the lead is now in your private pool'), 'success');
      await this.refresh();
      this.onClaimed(lead);
    } catch (err) {
      button.disabled = false;
      showError(err);
    }
  }
}
