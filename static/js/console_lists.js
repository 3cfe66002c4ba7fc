// The console's three work lists: today's due follow-ups, my private pool, the public pool.
// A row opens the lead; a public row has a claim button (the claim is atomic on the server).
import { api } from './api.js';
import { t } from './i18n.js';
import { el, formatTime, toast } from './ui.js';
import { stageLabels } from './console_labels.js';

const SOURCES = {
  due: () => api.get('followups/due', { when: 'today', per_page: 50 }),
  mine: () => api.get('leads', { pool: 'mine', sort: '-score', per_page: 50 }),
  public: () => api.get('leads', { pool: 'public', sort: '-score', per_page: 50 }),
};

export class WorkLists {
  constructor(root, { onOpen, onClaimed }) {
    this.root = root;
    this.body = root.querySelector('[data-list-body]');
    this.onOpen = onOpen;
    this.onClaimed = onClaimed;
    this.current = 'due';
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

  async refresh() {
    const name = this.current;
    let page;
    try {
      page = await SOURCES[name]();
    } catch (err) {
      toast(err.message, 'error');
      return;
    }
    if (name !== this.current) return; // another tab was chosen meanwhile
    const count = this.root.querySelector(`[data-list="${name}"] .count`);
    if (count) count.textContent = String(page.total);
    this.body.replaceChildren(
      ...(page.items.length
        ? page.items.map((lead) => this.row(lead, name))
        : [el('li', { class: 'empty' }, t('Nothing here'))]),
    );
  }

  row(lead, list) {
    const stages = stageLabels();
    const when = list === 'due' && lead.next_followup_at ? formatTime(lead.next_followup_at) : '';
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
    return el('li', { class: 'work-row' }, ...children);
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
      toast(err.message, 'error');
    }
  }
}
