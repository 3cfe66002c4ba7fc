// One application (进件): where it stands on the way to a loan, its terms with the all-in APR,
// every fee, the schedule it would have, its documents and contract versions, and the next
// steps this user may take (loans_application_actions.js).
import { api } from './api.js';
import { t } from './i18n.js';
import { attempt, el, fillTable, formatMoney, formatPercent, formatTime, pageData } from './ui.js';
import {
  aprText, applicationStatusLabels, badge, collectorLabels, documentKindLabels, durationWords,
  feeBasisLabels, signMethodLabels,
} from './loans_labels.js';
import { showActions, wireActions } from './loans_application_actions.js';
import { showEstimate } from './commissions_month.js';

const $ = (selector) => document.querySelector(selector);
const config = pageData('application-page');
const base = `applications/${config.application_id}`;
// the way to a loan; needs_documents, rejected and cancelled branch off it
const PATH = ['draft', 'submitted', 'under_review', 'approved', 'contract_signed', 'disbursed'];
const BRANCHES = { needs_documents: 'under_review', rejected: 'approved' };

// the last step an application reached, for one that left the path (cancelled) by its dates
function lastReached(app) {
  if (app.contracts.some((c) => c.signed_at)) return 4;
  if (app.decided_at) return 3;
  if (app.review_started_at) return 2;
  return app.submitted_at ? 1 : 0;
}

function renderStepper(app) {
  const labels = applicationStatusLabels();
  let at = PATH.indexOf(app.status);
  let branch = null;
  if (app.status in BRANCHES) [at, branch] = [PATH.indexOf(BRANCHES[app.status]), app.status];
  if (app.status === 'cancelled') [at, branch] = [lastReached(app) + 1, 'cancelled'];
  $('#stepper').replaceChildren(...PATH.map((status, n) => {
    const state = n < at ? 'done' : n === at ? 'current' : 'todo';
    const label = n === at && branch ? labels[branch] : labels[status];
    return el('li', { class: `step ${state}${n === at && branch ? ` branch-${branch}` : ''}`, 'aria-current': n === at ? 'step' : null }, label);
  }));
}

function renderHead(app) {
  const labels = applicationStatusLabels();
  $('#app-title').textContent = `${t('Application')} #${app.id} · ${app.lender_name} ${app.product_name}`;
  $('#app-status').replaceChildren(badge('status', app.status, labels));
  $('#app-waiting').textContent = app.seconds_in_review === null
    ? '' : t('Waiting for review: %(time)s', { time: durationWords(app.seconds_in_review) });
  const note = $('#decision-note');
  const words = {
    rejected: t('Rejected: %(note)s', { note: app.decision_note }),
    needs_documents: t('Documents requested: %(note)s', { note: app.decision_note }),
  };
  const text = app.status === 'cancelled'
    ? t('Cancelled: %(reason)s', { reason: app.cancel_reason })
    : (app.decision_note && (words[app.status] || t("Reviewer's note: %(note)s", { note: app.decision_note })));
  note.textContent = text || '';
  note.hidden = !text;
  const lead = $('#lead-link');
  lead.href = `/leads/${app.lead_id}`;
  lead.hidden = false;
  const loan = $('#loan-link');
  loan.hidden = !app.loan_id;
  if (app.loan_id) loan.href = `/loans/${app.loan_id}`;
}

function renderTerms(app) {
  const field = (label, value, attrs = {}) => [el('dt', {}, label), el('dd', attrs, value ?? '—')];
  $('#terms').replaceChildren(
    ...field(t('Customer'), el('a', { href: `/leads/${app.lead_id}` }, app.lead_name_masked || `#${app.lead_id}`)),
    ...field(t('Product'), `${app.lender_name} · ${app.product_name}`),
    ...field(t('Amount'), formatMoney(app.amount), { 'data-testid': 'application-amount' }),
    ...field(t('Term'), t('%(months)s months', { months: app.term_months })),
    ...field(t('Annual interest rate'), formatPercent(app.annual_rate)),
    ...field(t('All-in APR'), aprText(app.apr, app.apr_flagged), { 'data-testid': 'application-apr' }),
    ...field(t('Effective annual rate'), formatPercent(app.effective_rate)),
    ...field(t('Service fee'), formatMoney(app.service_fee)),
    ...field(t('Received by the borrower'), formatMoney(app.net_disbursed)),
    ...field(t('Total repayment'), formatMoney(app.total_repayment)),
    ...field(t('Created'), formatTime(app.created_at)),
    ...field(t('Submitted'), formatTime(app.submitted_at) || null),
    ...field(t('Agent note'), app.note),
  );
}

function feeValue(fee) {
  return fee.basis.endsWith('_rate') ? formatPercent(fee.value) : formatMoney(fee.value);
}

function renderTables(app) {
  const [collectors, bases] = [collectorLabels(), feeBasisLabels()];
  const num = (value) => el('td', { class: 'num' }, formatMoney(value));
  fillTable($('#fees-table'), app.fees.map((fee) => el('tr', {},
    el('td', {}, fee.name), el('td', {}, collectors[fee.collector] || fee.collector),
    el('td', {}, bases[fee.basis] || fee.basis), el('td', { class: 'num' }, feeValue(fee)))), 4, t('No fees.'));
  $('#schedule-note').hidden = !app.loan_id;
  $('#schedule-table tbody').replaceChildren(...app.schedule.map((row) => el('tr', {},
    el('td', {}, String(row.n)), el('td', {}, row.due_date),
    num(row.principal), num(row.interest), num(row.fee), num(row.total))));
}

function renderDocuments(app) {
  const kinds = documentKindLabels();
  const list = $('#documents');
  list.replaceChildren(...app.documents.map((doc) => el('li', { 'data-testid': 'document' },
    el('span', { class: 'badge' }, kinds[doc.kind] || doc.kind),
    el('a', { href: api.url(`${base}/documents/${doc.id}`), download: doc.filename }, doc.filename),
    el('span', { class: 'muted' }, `${Math.max(1, Math.round(doc.size / 1024))} KB · ${formatTime(doc.created_at)}`))));
  if (!app.documents.length) list.append(el('li', { class: 'muted' }, t('No documents yet.')));
}

function renderContracts(app) {
  const methods = signMethodLabels();
  const list = $('#contracts');
  list.replaceChildren(...app.contracts.map((c) => el('li', { 'data-testid': 'contract', dataset: { version: c.version } },
    el('b', {}, `v${c.version}`),
    el('span', { class: 'phone' }, c.contract_no),
    el('span', { class: 'muted' }, formatTime(c.created_at)),
    el('a', { href: api.url(`${base}/contracts/${c.version}.html`), target: '_blank', rel: 'noopener', 'data-testid': 'contract-preview' }, t('Preview')),
    el('a', { href: api.url(`${base}/contracts/${c.version}.pdf`), download: `${c.contract_no}.pdf`, 'data-testid': 'contract-pdf' }, t('Download PDF')),
    c.signed_at
      ? el('span', { class: 'badge status-contract_signed' }, t('Signed %(when)s (%(method)s)', { when: formatTime(c.signed_at), method: methods[c.sign_method] || c.sign_method }))
      : el('span', { class: 'muted' }, t('Not signed')))));
  if (!app.contracts.length) list.append(el('li', { class: 'muted' }, t('No contract yet: it is generated once the application is approved.')));
}

function render(app) {
  renderHead(app);
  renderStepper(app);
  renderTerms(app);
  renderTables(app);
  renderDocuments(app);
  renderContracts(app);
  showActions(app, config);
  if (config.can_see_commission) showEstimate($('#commission-estimate'), app, config.user_id);
}

async function reload() {
  const app = await attempt(() => api.get(base), $('#page-error'));
  if (app) render(app);
}

wireActions(base, reload);
reload();
