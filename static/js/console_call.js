// The call panel: live call state with a timer, and the disposition form that closes the call.
// The server is the source of truth: the panel only ever shows what call_state events said.
import { t } from './i18n.js';
import { callStateLabels, stageLabels } from './console_labels.js';

export class CallPanel {
  constructor(root) {
    this.root = root;
    this.stateEl = root.querySelector('[data-call-state]');
    this.timerEl = root.querySelector('[data-call-timer]');
    this.callerEl = root.querySelector('[data-caller-id]');
    this.call = null;
    this.ticker = setInterval(() => this.tick(), 1000);
    this.show();
  }

  /** A call_state event: returns true when it is a new call (not the one shown). */
  update(data) {
    const isNew = !this.call || this.call.id !== data.call_id;
    if (isNew) this.call = { id: data.call_id, leadId: data.lead_id, startedAt: Date.parse(data.at) };
    this.call.state = data.state;
    if (data.state === 'answered' && !this.call.answeredAt) this.call.answeredAt = Date.parse(data.at);
    if (data.state === 'ended') this.call.duration = data.duration_s ?? 0;
    if (data.caller_id_masked) this.call.callerId = data.caller_id_masked;
    this.show();
    return isNew;
  }

  get active() {
    return Boolean(this.call && this.call.state !== 'ended');
  }

  /** A call that ended and still waits for its disposition. */
  get awaitingOutcome() {
    return Boolean(this.call && this.call.state === 'ended' && !this.call.disposed);
  }

  disposed() {
    this.call.disposed = true;
    this.show();
  }

  clear() {
    this.call = null;
    this.show();
  }

  show() {
    const state = this.call ? this.call.state : 'idle';
    this.root.dataset.state = state;
    this.stateEl.textContent = callStateLabels()[state];
    this.callerEl.textContent = this.call && this.call.callerId ? `${t('Caller ID')} ${this.call.callerId}` : '';
    this.tick();
  }

  tick() {
    const c = this.call;
    let seconds = 0;
    if (c && c.state === 'ended') seconds = c.duration;
    else if (c) seconds = Math.max(0, (Date.now() - (c.answeredAt || c.startedAt)) / 1000);
    this.timerEl.textContent = clock(seconds);
  }
}

function clock(seconds) {
  const s = Math.floor(seconds);
  const pad = (n) => String(n).padStart(2, '0');
  return `${pad(Math.floor(s / 60))}:${pad(s % 60)}`;
}

export class DispositionForm {
  constructor(form, { transitions }) {
    this.form = form;
    this.transitions = transitions;
    this.stage = form.querySelector('[name=stage]');
    this.reasonRow = form.querySelector('[data-reason-row]');
    this.stage.addEventListener('change', () => this.toggleReason());
  }

  /** Offer only the stage moves the funnel allows from where the lead is now. The lead is
   * reloaded when its call ends, often after the agent has already picked a stage: a choice
   * still allowed is kept. */
  forLead(lead) {
    const labels = stageLabels();
    const chosen = this.stage.value;
    const keep = this.stage.options[0];
    this.stage.replaceChildren(keep);
    for (const stage of this.transitions[lead.stage] || []) {
      this.stage.add(new Option(labels[stage] || stage, stage, false, stage === chosen));
    }
    this.toggleReason();
  }

  enable(on) {
    this.form.toggleAttribute('inert', !on);
    this.form.classList.toggle('disabled', !on);
  }

  /** Key 1-8: pick the outcome, then the note is where the agent types next. */
  choose(index) {
    const radios = this.form.querySelectorAll('[name=disposition]');
    if (!radios[index] || this.form.inert) return;
    radios[index].checked = true;
    this.form.querySelector('[name=note]').focus();
  }

  toggleReason() {
    this.reasonRow.hidden = this.stage.value !== 'lost';
  }

  /** The disposition event's payload, or an error message to show. */
  values(callId) {
    const data = new FormData(this.form);
    const disposition = data.get('disposition');
    if (!disposition) return { error: t('Choose the call outcome (keys 1-8)') };
    const payload = { call_id: callId, disposition };
    const note = String(data.get('note') || '').trim();
    if (note) payload.note = note;
    const next = data.get('next_followup_at');
    // the picker shows Beijing time (the product's zone), whatever the PC's clock says
    if (next) payload.next_followup_at = `${next}:00+08:00`;
    if (data.get('stage')) payload.stage = data.get('stage');
    const reason = String(data.get('reason') || '').trim();
    if (payload.stage === 'lost' && !reason) return { error: t('Say why the lead was lost') };
    if (payload.stage === 'lost') payload.reason = reason;
    return { payload };
  }

  reset() {
    this.form.reset();
    this.toggleReason();
  }
}
