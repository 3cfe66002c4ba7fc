// The steps an application page offers: each button or form carries the statuses it may follow
// (data-when, from the server's workflow) and shows only then; a reviewer never sees review steps
// on an application they made (four eyes), and signing needs a generated contract.
import { api } from './api.js';
import { t } from './i18n.js';
import { attempt, shanghaiIso, shanghaiNowLocal } from './ui.js';

const $ = (selector) => document.querySelector(selector);
const errorBox = $('#action-error');
// decisions go to one endpoint with the decision in the body
const DECISIONS = new Set(['approve', 'reject', 'request_documents']);

export function showActions(app, config) {
  let any = false;
  for (const node of $('#actions').querySelectorAll('[data-when]')) {
    let show = node.dataset.when.split(' ').includes(app.status);
    if (node.dataset.side === 'review' && app.agent_id === config.user_id) show = false;
    if ('needsContract' in node.dataset && !app.contracts.length) show = false;
    node.hidden = !show;
    any = any || show;
  }
  $('#no-actions').hidden = any;
  const upload = $('#upload-form');
  if (upload) upload.hidden = !upload.dataset.when.split(' ').includes(app.status);
  const disburse = $('#disburse-form');
  if (disburse && !disburse.hidden) {
    disburse.elements.amount.value ||= app.amount;
    disburse.elements.disbursed_at.value ||= shanghaiNowLocal();
  }
}

// the step's refusal shows in `target`: the page's box, or the open dialog's
async function run(label, call, after, target = errorBox) {
  const answer = await attempt(call, target, label);
  if (answer) await after(answer);
  return Boolean(answer);
}

function step(base, action, note) {
  if (DECISIONS.has(action)) return api.post(`${base}/decision`, { decision: action, note: note || null });
  if (action === 'cancel') return api.post(`${base}/cancel`, { reason: note });
  return api.post(`${base}/${action}`);
}

// approve, reject, request documents and cancel ask for a note (required but for approve)
function askNote(button, onConfirm) {
  const dialog = $('#note-dialog');
  const form = $('#note-form');
  const required = 'noteRequired' in button.dataset;
  $('#note-title').textContent = button.textContent;
  const label = $('#note-label');
  label.textContent = button.dataset.action === 'cancel' ? label.dataset.reason : label.dataset.note;
  form.elements.note.required = required;
  form.elements.note.value = '';
  $('#note-error').hidden = true;
  form.onsubmit = async (event) => {
    event.preventDefault();
    if (await onConfirm(form.elements.note.value.trim())) dialog.close();
  };
  dialog.showModal();
}

function wireButtons(base, reload) {
  for (const button of $('#actions').querySelectorAll('button[data-action]')) {
    const action = button.dataset.action;
    const done = t('%(step)s: done', { step: button.textContent.trim() });
    const go = (note, target) => run(done, () => step(base, action, note), reload, target);
    if (DECISIONS.has(action) || action === 'cancel') {
      button.addEventListener('click', () => askNote(button, (note) => go(note, $('#note-error'))));
    } else {
      button.addEventListener('click', () => go());
    }
  }
}

function wireForms(base, reload) {
  const sign = $('#sign-form');
  if (sign) sign.addEventListener('submit', (event) => {
    event.preventDefault();
    run(t('Signature recorded'), () => api.post(`${base}/contract/sign`, { method: sign.elements.method.value }), reload);
  });
  const disburse = $('#disburse-form');
  if (disburse) disburse.addEventListener('submit', (event) => {
    event.preventDefault();
    const body = { amount: disburse.elements.amount.value.trim(), disbursed_at: shanghaiIso(disburse.elements.disbursed_at.value) };
    run(t('Disbursement recorded'), () => api.post(`${base}/disburse`, body), (loan) => window.location.assign(`/loans/${loan.id}`));
  });
  const upload = $('#upload-form');
  if (upload) upload.addEventListener('submit', async (event) => {
    event.preventDefault();
    const call = () => api.upload(`${base}/documents`, new FormData(upload));
    if (!(await attempt(call, $('#upload-error'), t('Document uploaded')))) return;
    upload.reset();
    reload();
  });
}

export function wireActions(base, reload) {
  wireButtons(base, reload);
  wireForms(base, reload);
  $('#note-dialog [data-close]').addEventListener('click', () => $('#note-dialog').close());
}
