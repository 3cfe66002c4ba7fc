// One loan: its summary, the schedule with each installment's status and days past due, the
// repayments with where each yuan went, and (loans:manage) recording a repayment received.
import { api } from './api.js';
import { t } from './i18n.js';
import { attempt, el, fillTable, formatMoney, formatPercent, formatTime, pageData, shanghaiIso, shanghaiNowLocal } from './ui.js';
import { aprText, badge, installmentStatusLabels, loanStatusLabels, methodLabels } from './loans_labels.js';

const $ = (selector) => document.querySelector(selector);
const config = pageData('loan-page');
const base = `loans/${config.loan_id}`;
const form = $('#repayment-form');
const cents = (value) => Math.round(Number(value) * 100);

// product and lender names live on the application; without them the ids show
async function productName(loan) {
  if (!config.can_see_applications) return `#${loan.product_id}`;
  try {
    const app = await api.get(`applications/${loan.application_id}`);
    return `${app.lender_name} · ${app.product_name}`;
  } catch {
    return `#${loan.product_id}`;
  }
}

function renderSummary(loan, product) {
  const field = (label, value, attrs = {}) => [el('dt', {}, label), el('dd', attrs, value ?? '—')];
  $('#loan-status').replaceChildren(badge('loan', loan.status, loanStatusLabels()));
  const link = $('#application-link');
  link.href = `/applications/${loan.application_id}`;
  link.hidden = !config.can_see_applications;
  $('#loan-summary').replaceChildren(
    ...field(t('Customer'), el('a', { href: `/leads/${loan.lead_id}` }, loan.lead_name_masked || `#${loan.lead_id}`)),
    ...field(t('Product'), product),
    ...field(t('Amount'), formatMoney(loan.amount)),
    ...field(t('Term'), t('%(months)s months', { months: loan.term_months })),
    ...field(t('Repayment method'), methodLabels()[loan.repayment_method] || loan.repayment_method),
    ...field(t('Annual interest rate'), formatPercent(loan.annual_rate)),
    ...field(t('All-in APR'), aprText(loan.apr, loan.apr_flagged)),
    ...field(t('Effective annual rate'), formatPercent(loan.effective_rate)),
    ...field(t('Disbursed'), formatTime(loan.disbursed_at)),
    ...field(t('Principal outstanding'), formatMoney(loan.outstanding_principal), { 'data-testid': 'outstanding' }),
    ...field(t('Days past due'), String(loan.days_past_due)),
    ...field(t('Bucket'), loan.bucket ? el('span', { class: 'badge bucket' }, loan.bucket) : null),
    ...field(t('Service fee'), formatMoney(loan.service_fee)),
    ...field(t('Channel fee'), formatMoney(loan.channel_fee)),
  );
}

function renderSchedule(loan) {
  const labels = installmentStatusLabels();
  const num = (value) => el('td', { class: 'num' }, formatMoney(value));
  $('#installments-table tbody').replaceChildren(...loan.schedule.map((row) => el('tr', { dataset: { n: row.n } },
    el('td', {}, String(row.n)), el('td', {}, row.due_date),
    num(row.principal), num(row.interest), num(row.fee), num(row.total), num(row.paid),
    el('td', { 'data-testid': 'installment-status' }, badge('inst', row.status, labels)),
    el('td', { class: 'num' }, row.days_past_due ? String(row.days_past_due) : ''),
    el('td', {}, formatTime(row.paid_at)))));
}

function allocationText(allocation) {
  const parts = { fee: t('fees'), interest: t('interest'), principal: t('principal') };
  return allocation.map((line) => t('No. %(n)s: %(parts)s', {
    n: line.n,
    parts: Object.keys(parts).filter((part) => line[part]).map((part) => `${parts[part]} ${formatMoney(line[part])}`).join(' · '),
  })).join('; ');
}

function renderRepayments(loan) {
  fillTable($('#repayments-table'), loan.repayments.map((r) => el('tr', {},
    el('td', {}, formatTime(r.paid_at)),
    el('td', { class: 'num' }, formatMoney(r.amount)),
    el('td', { class: 'wrap' }, allocationText(r.allocation)))), 3, t('No repayments yet.'));
}

// what the next unpaid installment still needs: the usual amount to record
function prefill(loan) {
  if (!form) return;
  const next = loan.schedule.find((row) => row.status !== 'paid');
  form.elements.amount.value = next ? ((cents(next.total) - cents(next.paid)) / 100).toFixed(2) : '';
  form.elements.paid_at.value = shanghaiNowLocal();
}

async function reload() {
  const loan = await attempt(() => api.get(base), $('#page-error'));
  if (!loan) return;
  renderSummary(loan, await productName(loan));
  renderSchedule(loan);
  renderRepayments(loan);
  prefill(loan);
}

async function repay(event) {
  event.preventDefault();
  const body = { amount: form.elements.amount.value.trim(), paid_at: shanghaiIso(form.elements.paid_at.value) };
  const call = () => api.post(`${base}/repayments`, body);
  if (await attempt(call, $('#repayment-error'), t('Repayment recorded'))) reload();
}

if (form) form.addEventListener('submit', repay);
reload();
