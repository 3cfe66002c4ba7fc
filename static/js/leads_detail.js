// One lead: its card, edit form, reveal with a purpose (audited), follow-ups and timeline, and
// its loans side (matching, applying, applications and loans: loans_lead.js).
import { api } from './api.js';
import { t } from './i18n.js';
import { el, formatTime, pageData, shanghaiIso, showError, toast } from './ui.js';
import { loadLead, renderLead, renderTimeline } from './console_lead.js';
import { initLeadLoans } from './loans_lead.js';

const $ = (selector) => document.querySelector(selector);
const config = pageData('lead-page');
const leadId = config.lead_id;
const editForm = $('#edit-form');
const refreshLoans = initLeadLoans(leadId, config);

function channelLabels() {
  return { call: t('Phone call'), sms: t('SMS'), wechat: t('WeChat'), visit: t('Visit'), other: t('Other') };
}

async function refresh() {
  let data;
  try {
    data = await loadLead(leadId);
  } catch (error) {
    showError(error, $('#lead-error'));
    return;
  }
  renderLead($('#lead-card'), data.lead);
  renderTimeline($('#timeline'), data.events, data.followups);
  renderFollowups(data.followups);
  if (editForm) fillEditForm(data.lead);
  refreshLoans(data.lead);
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

async function addFollowup(event) {
  event.preventDefault();
  const form = event.target;
  $('#followup-error').hidden = true;
  const body = { channel: form.elements.channel.value, content: form.elements.content.value.trim() };
  const next = shanghaiIso(form.elements.next_followup_at.value);
  if (next) body.next_followup_at = next;
  try {
    await api.post(`leads/${leadId}/followups`, body);
    form.reset();
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
  if (followupForm) followupForm.addEventListener('submit', addFollowup);
  const open = $('#reveal-open');
  if (open) {
    open.addEventListener('click', () => $('#reveal-dialog').showModal());
    $('#reveal-cancel').addEventListener('click', () => $('#reveal-dialog').close());
    $('#reveal-form').addEventListener('submit', reveal);
  }
  refresh();
}

init();
