// The call panel: live call state with a timer, and the disposition form that closes the call.
// The server is the source of truth: the panel only ever shows what call_state events (or the
// snapshot a reconnected console gets) said.
import { t } from './i18n.js';
import { shanghaiNowLocal } from './ui.js';
import { callStateLabels, stageLabels } from './console_labels.js';
import { PromiseChoice } from './followup_promises.js';

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

  /** A call_state payload: returns true when it is a new call (not the one shown). */
  update(data) {
    const isNew = !this.call || this.call.id !== data.call_id;
    if (isNew) this.call = { id: data.call_id, leadId: data.lead_id, startedAt: Date.parse(data.at) };
    this.call.state = data.state;
    if (data.state === 'answered' && !this.call.answeredAt) this.call.answeredAt = Date.parse(data.at);
    // an ended call was answered exactly when it has a duration
    if (data.state === 'ended') {
      this.call.duration = data.duration_s ?? 0;
      this.call.answered = data.duration_s !== undefined && data.duration_s !== null;
    }
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

/** A Beijing date `days` from today at `hhmm`, as a datetime-local value. */
function beijingAt(days, hhmm) {
  const day = new Date(`${shanghaiNowLocal().slice(0, 10)}T00:00:00Z`);
  day.setUTCDate(day.getUTCDate() + days);
  return `${day.toISOString().slice(0, 10)}T${hhmm}`;
}

function daysToNextMonday() {
  const weekday = new Date(`${shanghaiNowLocal().slice(0, 10)}T00:00:00Z`).getUTCDay();
  return ((8 - weekday) % 7) || 7;
}

function presets() {
  return [
    [t('In 1 hour'), () => shanghaiNowLocal(new Date(Date.now() + 3600 * 1000))],
    [t('Tonight 19:00'), () => beijingAt(0, '19:00')],
    [t('Tomorrow 10:00'), () => beijingAt(1, '10:00')],
    [t('Tomorrow 15:00'), () => beijingAt(1, '15:00')],
    [t('In 3 days'), () => beijingAt(3, '10:00')],
    [t('Next Monday'), () => beijingAt(daysToNextMonday(), '10:00')],
  ];
}

// what the agent has entered for a call, kept per call in the tab: a reload (F5) finds it again
const DRAFT_FIELDS = ['disposition', 'note', 'next_followup_at', 'stage', 'reason'];
const draftKey = (callId) => `outcome_draft:${callId}`;

export class DispositionForm {
  constructor(form, { transitions }) {
    this.form = form;
    this.transitions = transitions;
    this.callId = null;
    this.answered = false;
    this.draftStage = null; // a drafted stage move waiting for its lead's options (forLead)
    this.stage = form.querySelector('[name=stage]');
    this.next = form.querySelector('[name=next_followup_at]');
    this.reasonRow = form.querySelector('[data-reason-row]');
    this.promises = new PromiseChoice(form.querySelector('[data-promises]'));
    this.stage.addEventListener('change', () => this.toggleReason());
    this.addPresets(form.querySelector('[data-presets]'));
    form.addEventListener('input', () => this.changed());
    form.addEventListener('change', () => this.changed());
  }

  addPresets(box) {
    this.presetButtons = presets().map(([label, value]) => {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'small';
      button.textContent = label;
      button.addEventListener('click', () => {
        this.next.value = value();
        this.changed();
      });
      button.presetValue = value;
      return button;
    });
    box.replaceChildren(...this.presetButtons);
  }

  /** Offer only the stage moves the funnel allows from where the lead is now. The lead is
   * reloaded when its call ends, often after the agent has already picked a stage: a choice
   * still allowed is kept. Its open promised follow-ups are offered to keep or replace. */
  forLead(lead) {
    const labels = stageLabels();
    const chosen = this.stage.value || this.draftStage;
    this.draftStage = null;
    const keep = this.stage.options[0];
    this.stage.replaceChildren(keep);
    for (const stage of this.transitions[lead.stage] || []) {
      this.stage.add(new Option(labels[stage] || stage, stage, false, stage === chosen));
    }
    this.toggleReason();
    if (lead.pool === 'private') this.promises.load(lead.id).then(() => this.suggest());
    else this.promises.clear();
  }

  /** The form now records the outcome of `call` (from the panel); its draft comes back. */
  attach(call) {
    if (this.callId === call.id) return;
    this.callId = call.id;
    this.answered = Boolean(call.answered || call.answeredAt);
    this.draftStage = null;
    const draft = JSON.parse(sessionStorage.getItem(draftKey(call.id)) || 'null');
    if (draft) this.fill(draft);
    this.suggest();
  }

  fill(draft) {
    for (const name of DRAFT_FIELDS) {
      if (!(name in draft)) continue;
      if (name === 'disposition') {
        const radio = this.form.querySelector(`[name=disposition][value="${draft.disposition}"]`);
        if (radio) radio.checked = true;
      } else if (name === 'stage' && !this.stage.querySelector(`option[value="${draft.stage}"]`)) {
        this.draftStage = draft.stage; // the lead's stage moves are not loaded yet
      } else if (this.form.elements[name]) {
        this.form.elements[name].value = draft[name];
      }
    }
    this.toggleReason();
  }

  changed() {
    this.suggest();
    if (this.callId === null) return;
    const data = new FormData(this.form);
    const draft = Object.fromEntries(DRAFT_FIELDS.filter((n) => data.get(n)).map((n) => [n, data.get(n)]));
    if (!draft.stage && this.draftStage) draft.stage = this.draftStage;
    sessionStorage.setItem(draftKey(this.callId), JSON.stringify(draft));
  }

  suggest() {
    this.promises.suggest({ reached: this.answered, newTime: Boolean(this.next.value) });
    const now = shanghaiNowLocal();
    for (const button of this.presetButtons) button.disabled = button.presetValue() <= now;
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
    this.changed();
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
    if (next && disposition === 'do_not_call') {
      return { error: t('A person who asked not to be called gets no callback.') };
    }
    if (next) payload.next_followup_at = `${next}:00+08:00`;
    if (data.get('stage')) payload.stage = data.get('stage');
    const reason = String(data.get('reason') || '').trim();
    if (payload.stage === 'lost' && !reason) return { error: t('Say why the lead was lost') };
    if (payload.stage === 'lost') payload.reason = reason;
    const replaces = this.promises.replaces();
    if (replaces !== undefined) payload.replaces = replaces;
    return { payload };
  }

  /** The outcome is saved: its draft goes, and the form waits for the next call. */
  reset() {
    if (this.callId !== null) sessionStorage.removeItem(draftKey(this.callId));
    this.callId = null;
    this.draftStage = null;
    this.form.reset();
    this.toggleReason();
    this.suggest();
  }
}
