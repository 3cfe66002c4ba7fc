// A lead's open promised follow-ups, offered as "this contact keeps or replaces" choices. By
// default a due one is ticked when the person was reached or a new time is set, as the server
// decides when it is not told (crm/followups/schedule.py); once the user ticks or unticks one,
// the choice is theirs. A future promise is never ticked for them: it stays on the lists.
import { api } from './api.js';
import { t } from './i18n.js';
import { el, formatTime } from './ui.js';

export class PromiseChoice {
  constructor(fieldset) {
    this.box = fieldset;
    this.list = fieldset.querySelector('[data-promise-list]');
    this.promises = [];
    this.touched = false;
    this.box.addEventListener('change', () => { this.touched = true; });
  }

  async load(leadId) {
    try {
      this.promises = await api.get(`leads/${leadId}/scheduled-followups`);
    } catch {
      this.promises = [];
    }
    this.touched = false;
    this.render();
  }

  clear() {
    this.promises = [];
    this.render();
  }

  render() {
    this.box.hidden = !this.promises.length;
    this.list.replaceChildren(...this.promises.map((p) => el(
      'label',
      { class: 'promise' },
      el('input', { type: 'checkbox', value: String(p.id), 'data-due': p.due_at }),
      ` ${formatTime(p.due_at)}`,
      Date.parse(p.due_at) <= Date.now() ? el('small', { class: 'due' }, t('due')) : null,
    )));
  }

  /** Tick the due promises as the server would, unless the user has chosen. */
  suggest({ reached, newTime }) {
    if (this.touched) return;
    for (const box of this.list.querySelectorAll('input')) {
      box.checked = Date.parse(box.dataset.due) <= Date.now() && Boolean(reached || newTime);
    }
  }

  /** The ids to send as `replaces`, or undefined when the lead has no open promise. */
  replaces() {
    if (!this.promises.length) return undefined;
    return [...this.list.querySelectorAll('input:checked')].map((box) => Number(box.value));
  }
}
