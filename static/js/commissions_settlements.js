// Finance's month: settle it (every org, or one) as a job with a progress bar, then each org's
// settlement with its status and total, opened to its statements; approve a draft, mark an
// approved one paid, add a manual adjustment to a draft.
import { api } from './api.js';
import { t } from './i18n.js';
import { attempt, el, fillTable, formatMoney, formatTime, pageData, showError, watchJob } from './ui.js';
import { monthText, statementRow, statusBadge } from './commissions_labels.js';

const $ = (selector) => document.querySelector(selector);
const config = pageData('settlements-page');
const form = $('#settle-form');
const state = { settlements: [], orgs: new Map(), open: new Set() };

const orgName = (id) => (state.orgs.get(id) || {}).name || `#${id}`;
const period = () => form.elements.period.value;

function statementsTable(settlement) {
  const table = el('table', { class: 'data nested' },
    el('thead', {}, el('tr', {}, ...[t('Month'), t('Payee'), t('Role'), t('Status'), t('Total'), ''].map((h) => el('th', {}, h)))),
    el('tbody'));
  fillTable(table, settlement.statements.map((s) => statementRow(s)), 6, t('No statements: nothing was earned in this org this month.'));
  return table;
}

function actionButton(label, onclick, kind = '') {
  return el('button', { type: 'button', class: kind, onclick }, label);
}

function actions(s) {
  const open = state.open.has(s.id);
  const buttons = [actionButton(open ? t('Hide statements') : t('Show statements'), () => toggle(s.id))];
  if (s.status === 'draft') {
    buttons.push(actionButton(t('Add adjustment'), () => openAdjust(s)));
    buttons.push(actionButton(t('Approve'), () => confirmStep(s, 'approve'), 'primary'));
  }
  if (s.status === 'approved') buttons.push(actionButton(t('Mark as paid'), () => confirmStep(s, 'mark-paid'), 'primary'));
  return el('div', { class: 'row nowrap' }, ...buttons);
}

function settlementRows(s) {
  const status = [statusBadge(s.status), s.error ? el('span', { class: 'muted' }, ` ${s.error}`) : null];
  const main = el('tr', { dataset: { settlementId: s.id, org: orgName(s.org_id) }, 'data-testid': 'settlement' },
    el('td', {}, orgName(s.org_id)),
    el('td', { 'data-testid': 'settlement-status' }, ...status),
    el('td', { class: 'num' }, String(s.statements.length)),
    el('td', { class: 'num', 'data-testid': 'settlement-total' }, formatMoney(s.total)),
    el('td', {}, formatTime(s.settled_at)),
    el('td', {}, actions(s)),
  );
  if (!state.open.has(s.id)) return [main];
  return [main, el('tr', { class: 'details', dataset: { detailsOf: s.id } }, el('td', { colspan: 6 }, statementsTable(s)))];
}

function render() {
  $('#settlements-title').textContent = t('Settlements of %(month)s', { month: monthText(period()) });
  const empty = t('This month has not been settled yet.');
  fillTable($('#settlements-table'), state.settlements.flatMap(settlementRows), 6, empty);
}

function toggle(id) {
  if (state.open.has(id)) state.open.delete(id);
  else state.open.add(id);
  render();
}

async function reload() {
  if (!period()) return;
  const page = await attempt(() => api.get('settlements', { period: period(), per_page: 200 }), $('#list-error'));
  if (!page) return;
  state.settlements = page.items;
  render();
}

async function settle(event) {
  event.preventDefault();
  const body = { period: period() };
  if (form.elements.org_id.value) body.org_id = Number(form.elements.org_id.value);
  const button = $('#settle');
  const errorBox = $('#settle-error');
  const started = await attempt(() => api.post('settlements', body), errorBox);
  if (!started) return;
  button.disabled = true;
  await reload();
  try {
    await watchJob(started.job_id, $('#settle-progress'));
  } catch (error) {
    // a failed job carries its error as the API's error shape
    showError(error.job && error.job.error ? Object.assign(error, error.job.error) : error, errorBox);
  }
  button.disabled = false;
  state.open = new Set(started.settlement_ids);
  await reload();
}

function confirmStep(s, step) {
  const dialog = $('#confirm-dialog');
  const words = {
    approve: [t('Approve the settlement'), t('Once approved, the statements of %(org)s for %(month)s can no longer change.', { org: orgName(s.org_id), month: monthText(s.period) }), t('Settlement approved')],
    'mark-paid': [t('Mark as paid'), t('The %(total)s of %(org)s for %(month)s was paid out to the payees.', { total: formatMoney(s.total), org: orgName(s.org_id), month: monthText(s.period) }), t('Marked as paid')],
  }[step];
  $('#confirm-title').textContent = words[0];
  $('#confirm-text').textContent = words[1];
  $('#confirm-error').hidden = true;
  $('#confirm-form').onsubmit = async (event) => {
    event.preventDefault();
    const done = await attempt(() => api.post(`settlements/${s.id}/${step}`), $('#confirm-error'), words[2]);
    if (!done) return;
    dialog.close();
    reload();
  };
  dialog.showModal();
}

// payees: those with a statement already, the partner org itself (its rebate), anyone by user ID
function payeeOptions(s) {
  const options = s.statements.map((st) => new Option(st.payee_name, st.payee_key));
  const orgKey = `org:${s.org_id}`;
  const org = state.orgs.get(s.org_id);
  if (org && org.kind === 'partner' && !s.statements.some((st) => st.payee_key === orgKey)) {
    options.push(new Option(t('%(org)s (the org itself)', { org: org.name }), orgKey));
  }
  options.push(new Option(t('Another user of the org, by ID'), 'user:other'));
  return options;
}

function adjustmentBody(f) {
  const [kind, id] = f.elements.payee.value.split(':');
  const payee = kind === 'org' ? { payee_org_id: Number(id) } : { payee_user_id: Number(id === 'other' ? f.elements.user_id.value : id) };
  return { ...payee, amount: f.elements.amount.value.trim(), reason: f.elements.reason.value.trim() };
}

function openAdjust(s) {
  const dialog = $('#adjust-dialog');
  const f = $('#adjust-form');
  f.reset();
  f.elements.payee.replaceChildren(...payeeOptions(s));
  const showUserRow = () => {
    const other = f.elements.payee.value === 'user:other';
    $('#adjust-user-row').hidden = !other;
    f.elements.user_id.required = other;
  };
  f.elements.payee.onchange = showUserRow;
  showUserRow();
  $('#adjust-settlement').textContent = `${orgName(s.org_id)} · ${monthText(s.period)}`;
  $('#adjust-error').hidden = true;
  f.onsubmit = async (event) => {
    event.preventDefault();
    const call = () => api.post(`settlements/${s.id}/adjustments`, adjustmentBody(f));
    if (!(await attempt(call, $('#adjust-error'), t('Adjustment added')))) return;
    dialog.close();
    state.open.add(s.id);
    reload();
  };
  dialog.showModal();
}

async function loadOrgs() {
  const page = await api.get('orgs', { per_page: 200 });
  state.orgs = new Map(page.items.map((org) => [org.id, org]));
  form.elements.org_id.append(...page.items.map((org) => new Option(org.name, org.id)));
}

async function init() {
  form.elements.period.value ||= config.last_month;
  form.addEventListener('submit', settle);
  form.elements.period.addEventListener('change', () => {
    state.open.clear();
    reload();
  });
  for (const dialog of document.querySelectorAll('dialog')) {
    dialog.querySelector('[data-close]').addEventListener('click', () => dialog.close());
  }
  // without the names the org ids show; settling still works
  await loadOrgs().catch((error) => showError(error, $('#list-error')));
  reload();
}

init();
