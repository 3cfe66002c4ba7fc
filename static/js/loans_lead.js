// The lead page's loans side: the matching panel with "apply" on each eligible product, the
// application form (prefilled from what the customer wants, kept inside the product's ranges),
// and the lead's applications and loans.
import { api } from './api.js';
import { t } from './i18n.js';
import { attempt, el, fillTable, formatMoney, formatTime, showError } from './ui.js';
import { aprText, applicationStatusLabels, badge, loanStatusLabels, moneyRange, percentToFraction, rateRange, termRange } from './loans_labels.js';
import { loadMatches, renderMatches } from './loans_matching.js';

const $ = (selector) => document.querySelector(selector);
const clamp = (value, low, high) => Math.min(Math.max(value, low), high);
// the broker's fee suggested in the form: 1% of the amount, in whole yuan; the agent changes it
const SUGGESTED_FEE_RATE = 0.01;

function openApply(product, lead) {
  const form = $('#apply-form');
  form.reset();
  const [low, high] = [Number(product.min_amount), Number(product.max_amount)];
  const amount = clamp(Number(lead.amount_wanted || low), low, high);
  const term = clamp(lead.term_months || product.min_term_months, product.min_term_months, product.max_term_months);
  form.elements.amount.value = amount.toFixed(2);
  form.elements.term_months.value = term;
  form.elements.service_fee.value = Math.round(amount * SUGGESTED_FEE_RATE).toFixed(2);
  $('#apply-product').textContent = [`${product.lender_name} · ${product.name}`,
    moneyRange(product.min_amount, product.max_amount), termRange(product.min_term_months, product.max_term_months),
    t('Interest rate %(range)s', { range: rateRange(product.apr_min, product.apr_max) })].join(' · ');
  form.elements.annual_rate.placeholder = t('Default: the highest rate');
  form.dataset.productId = product.id;
  $('#apply-error').hidden = true;
  $('#apply-dialog').showModal();
}

async function apply(event, leadId) {
  event.preventDefault();
  const form = event.target;
  const value = (name) => form.elements[name].value.trim();
  const body = {
    lead_id: leadId,
    product_id: Number(form.dataset.productId),
    amount: value('amount'),
    term_months: Number(value('term_months')),
    service_fee: value('service_fee') || '0',
  };
  if (value('annual_rate')) body.annual_rate = percentToFraction(value('annual_rate')) ?? value('annual_rate');
  if (value('note')) body.note = value('note');
  const created = await attempt(() => api.post('applications', body), $('#apply-error'));
  if (created) window.location.assign(`/applications/${created.id}`);
}

async function listApplications(leadId) {
  const page = await api.get('applications', { lead_id: leadId, per_page: 50 });
  const labels = applicationStatusLabels();
  fillTable($('#lead-applications'), page.items.map((app) => el('tr', { dataset: { applicationId: app.id } },
    el('td', {}, el('a', { href: `/applications/${app.id}` }, `#${app.id}`)),
    el('td', {}, `${app.lender_name} · ${app.product_name}`),
    el('td', { class: 'num' }, formatMoney(app.amount)),
    el('td', {}, t('%(months)s months', { months: app.term_months })),
    el('td', {}, aprText(app.apr, app.apr_flagged)),
    el('td', {}, badge('status', app.status, labels)),
    el('td', {}, formatTime(app.created_at)))), 7, t('No applications yet.'));
}

async function listLoans(leadId) {
  const page = await api.get('loans', { lead_id: leadId, per_page: 50 });
  fillTable($('#lead-loans'), page.items.map((loan) => el('tr', {},
    el('td', {}, el('a', { href: `/loans/${loan.id}` }, `#${loan.id}`)),
    el('td', { class: 'num' }, formatMoney(loan.amount)),
    el('td', {}, formatTime(loan.disbursed_at)),
    el('td', {}, badge('loan', loan.status, loanStatusLabels())),
    el('td', { class: 'num' }, formatMoney(loan.outstanding_principal)),
    el('td', { class: 'num' }, String(loan.days_past_due)))), 6, t('No loans yet.'));
}

/** Wires the panels of the lead page; call the returned function with the lead on each refresh. */
export function initLeadLoans(leadId, config) {
  let lead = null;
  const form = $('#apply-form');
  if (form) {
    form.addEventListener('submit', (event) => apply(event, leadId));
    $('#apply-cancel').addEventListener('click', () => $('#apply-dialog').close());
  }
  const onApply = config.can_apply ? (product) => openApply(product, lead) : null;
  return async function refresh(current) {
    lead = current;
    const jobs = [listApplications(leadId)];
    if (config.can_match) jobs.push(loadMatches(leadId).then((matches) => renderMatches($('#matches'), matches, onApply)));
    if (config.can_see_loans) jobs.push(listLoans(leadId));
    const failed = (await Promise.allSettled(jobs)).find((outcome) => outcome.status === 'rejected');
    if (failed) showError(failed.reason, $('#loans-error'));
  };
}
