// One lead: its card, edit form, reveal with a purpose (audited), follow-ups and timeline, and
// its loans side (matching, applying, applications and loans: loans_lead.js).
import { api } from './api.js';
import { t } from './i18n.js';
import { el, formatTime, pageData, shanghaiIso, showError, toast } from './ui.js';
import { loadLead, renderLead, renderTimeline } from './console_lead.js';
import { initLeadLoans } from './loans_lead.js';
import { PromiseChoice } from './followup_promises.js';
import { stageLabels } from './console_labels.js';

const $ = (selector) => document.querySelector(selector);
const config = pageData('lead-page');
const leadId = config.lead_id;
const editForm = $('#edit-form');
const refreshLoans = initLeadLoans(leadId, config);
const promises = $('#followup-form') ? new PromiseChoice($('#followup-form [data-promises]')) : null;

function channelLabels() {
  return { call: t('Phone call'), sms: t('SMS'), wechat: t('WeChat'), visit: t('Visit'), other: t('Other') };
}

// a lead that is not there (or not visible) shows the error and nothing else
async function refresh() {
  let data;
  try {
    data = await loadLead(leadId);
  } catch (error) {
    showError(error, $('#lead-error'));
    for (const part of ['#lead-body', '#dial-lead', '#stage-form', '#reveal-open']) {
      if ($(part)) $(part).hidden = true;
    }
    return;
  }
  $('#lead-body').hidden = false;
  if ($('#reveal-open')) $('#reveal-open').hidden = false;
  renderLead($('#lead-card'), data.lead);
  renderTimeline($('#timeline'), data.events, data.followups);
  renderFollowups(data.followups);
  showLeadActions(data.lead);
  if (promises && data.lead.owner_id !== null) promises.load(leadId).then(suggestPromises);
  if (editForm) fillEditForm(data.lead);
  refreshLoans(data.lead);
}

// dial (the console places the call) and move the stage, as far as the funnel allows
function showLeadActions(lead) {
  const dial = $('#dial-lead');
  if (dial) dial.hidden = !(lead.pool === 'public' || lead.owner_id === config.user_id);
  const form = $('#stage-form');
  if (!form) return;
  const labels = stageLabels();
  const targets = config.transitions[lead.stage] || [];
  form.elements.stage.replaceChildren(...targets.map((stage) => new Option(labels[stage] || stage, stage)));
  form.hidden = !targets.length;
  toggleLostReason();
}

function toggleLostReason() {
  const form = $('#stage-form');
  form.elements.reason.hidden = form.elements.stage.value !== 'lost';
}

async function moveStage(event) {
  event.preventDefault();
  const form = event.target;
  const body = { stage: form.elements.stage.value };
  if (body.stage === 'lost') body.reason = form.elements.reason.value.trim();
  $('#lead-error').hidden = true;
  try {
    await api.post(`leads/${leadId}/stage`, body);
    form.reset();
    toast(t('Stage changed'), 'success');
    refresh();
  } catch (error) {
    showError(error, $('#lead-error'));
  }
}

function renderFollowups(followups) {
  const channels = channelLabels();
  const list = $('#followups');
  list.replaceChildren(...followups.map((f) => el('li', {},
    el('div', { class: 'when' }, `${formatTime(f.created_at)} · ${channels[f.channel] || f.channel}`),
    el('div', {}, f.content),
    f.next_followup_at ? el('div', { class: 'when' }, `${t('Next follow-up')} ${formatTime(f.next_followup_at)}`) : null,
  )));
  if (!followups.length) list.append(el('li', { class: 'muted' }, t('No follow-ups yet.')));
}

// Form fields named "q.<name>" are qualifications; the rest are lead fields.
function fillEditForm(lead) {
  for (const input of editForm.elements) {
    if (!input.name) continue;
    const [scope, name] = input.name.startsWith('q.') ? ['q', input.name.slice(2)] : ['lead', input.name];
    const value = scope === 'q' ? (lead.qualifications || {})[name] : lead[name];
    input.value = value === null || value === undefined ? '' : String(value);
  }
}

function editBody() {
  const body = { qualifications: {} };
  for (const input of editForm.elements) {
    if (!input.name) continue;
    const raw = input.value.trim();
    let value = raw === '' ? null : raw;
    if (value !== null && input.dataset.kind === 'bool') value = value === 'true';
    if (value !== null && (input.name === 'term_months' || input.dataset.kind === 'int')) value = Number(value);
    if (input.name.startsWith('q.')) {
      if (value !== null) body.qualifications[input.name.slice(2)] = value;
    } else {
      body[input.name] = value;
    }
  }
  return body;
}

async function saveEdit(event) {
  event.preventDefault();
  $('#edit-error').hidden = true;
  try {
    await api.patch(`leads/${leadId}`, editBody());
    toast(t('Lead saved'), 'success');
    refresh();
  } catch (error) {
    showError(error, $('#edit-error'));
  }
}

// a call, a visit or WeChat reach the person unless the agent says otherwise; an SMS does not
const REACHING = new Set(['call', 'visit', 'wechat']);

function followupDefaults() {
  const form = $('#followup-form');
  if (!form.dataset.reachedTouched) form.elements.reached.checked = REACHING.has(form.elements.channel.value);
  suggestPromises();
}

function suggestPromises() {
  const form = $('#followup-form');
  if (promises) promises.suggest({ reached: form.elements.reached.checked, newTime: Boolean(form.elements.next_followup_at.value) });
}

async function addFollowup(event) {
  event.preventDefault();
  const form = event.target;
  $('#followup-error').hidden = true;
  const body = {
    channel: form.elements.channel.value,
    content: form.elements.content.value.trim(),
    reached: form.elements.reached.checked,
  };
  const next = shanghaiIso(form.elements.next_followup_at.value);
  if (next) body.next_followup_at = next;
  const replaces = promises.replaces();
  if (replaces !== undefined) body.replaces = replaces;
  try {
    await api.post(`leads/${leadId}/followups`, body);
    form.reset();
    delete form.dataset.reachedTouched;
    followupDefaults();
    toast(t('Follow-up added'), 'success');
    refresh();
  } catch (error) {
    showError(error, $('#followup-error'));
  }
}

function revealLabels() {
  return { phone: t('Phone'), id_number: t('ID number'), name: t('Name') };
}

async function reveal(event) {
  event.preventDefault();
  const form = event.target;
  const fields = [...form.querySelectorAll('input[name=fields]:checked')].map((box) => box.value);
  $('#reveal-error').hidden = true;
  try {
    const plain = await api.post(`leads/${leadId}/reveal`, { fields, purpose: form.elements.purpose.value.trim() });
    const labels = revealLabels();
    $('#revealed-fields').replaceChildren(...fields.flatMap((name) => [
      el('dt', {}, labels[name]),
      el('dd', { class: 'phone', 'data-testid': `revealed-${name}` }, plain[name] || '—'),
    ]));
    $('#revealed').hidden = false;
    $('#reveal-dialog').close();
    form.reset();
    refresh();
  } catch (error) {
    showError(error, $('#reveal-error'));
  }
}

function init() {
  if (editForm) editForm.addEventListener('submit', saveEdit);
  const followupForm = $('#followup-form');
  if (followupForm) {
    followupForm.addEventListener('submit', addFollowup);
    followupForm.elements.channel.addEventListener('change', followupDefaults);
    followupForm.elements.next_followup_at.addEventListener('input', suggestPromises);
    followupForm.elements.reached.addEventListener('change', () => {
      followupForm.dataset.reachedTouched = 'true';
      suggestPromises();
    });
    followupDefaults();
  }
  const stageForm = $('#stage-form');
  if (stageForm) {
    stageForm.addEventListener('submit', moveStage);
    stageForm.elements.stage.addEventListener('change', toggleLostReason);
  }
  const open = $('#reveal-open');
  if (open) {
    open.addEventListener('click', () => $('#reveal-dialog').showModal());
    $('#reveal-cancel').addEventListener('click', () => $('#reveal-dialog').close());
    $('#reveal-form').addEventListener('submit', reveal);
  }
  refresh();
}

init();
