// Small DOM helpers shared by every page: element builder, toasts, formatting, job progress.
import { api } from './api.js';
import { currentLang, errorMessage, t } from './i18n.js';

// el('a', {href: '/x', class: 'btn', dataset: {id: 3}, onclick: fn}, 'text', child)
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else if (value === true) node.setAttribute(key, '');
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

export function toast(message, kind = 'info') {
  const box = document.getElementById('toasts') || document.body;
  const item = el('div', { class: `toast ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, message);
  box.append(item);
  setTimeout(() => item.remove(), kind === 'error' ? 8000 : 4000);
}

const TIMEZONE = 'Asia/Shanghai';

export function formatTime(value, { date = true, seconds = false } = {}) {
  if (!value) return '';
  const options = { timeZone: TIMEZONE, hour: '2-digit', minute: '2-digit', hour12: false };
  if (date) Object.assign(options, { year: 'numeric', month: '2-digit', day: '2-digit' });
  if (seconds) options.second = '2-digit';
  return new Intl.DateTimeFormat(currentLang(), options).format(new Date(value));
}

// datetime-local has no zone: the user means Beijing time
export function shanghaiIso(local) {
  return local ? `${local.length === 16 ? `${local}:00` : local}+08:00` : null;
}

// A moment (now by default) in Beijing as a datetime-local value, to the minute (now: never in
// the future)
export function shanghaiNowLocal(at = new Date()) {
  const options = { timeZone: TIMEZONE, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false };
  return new Intl.DateTimeFormat('sv-SE', options).format(at).replace(' ', 'T');
}

export function formatMoney(value) {
  if (value === null || value === undefined || value === '') return '';
  return new Intl.NumberFormat(currentLang(), { style: 'currency', currency: 'CNY' }).format(Number(value));
}

// A rate sent as a fraction ("0.2014") as a percentage: 20.14%
export function formatPercent(value, digits = 2) {
  if (value === null || value === undefined || value === '') return '';
  return `${(Number(value) * 100).toFixed(digits)}%`;
}

// The API's messages are English; every code has its text in the page's language
// (errorMessage), some here with the figures the refusal names (details).
function errorText(error) {
  const d = error.details || {};
  const known = {
    not_found: () => t('Not found, or not visible to your org.'),
    forbidden: () => t('You do not have permission for this.'),
    csrf_failed: () => t('The page is out of date; reload it and try again.'),
    validation_error: () => t('Some fields are missing or invalid.'),
    internal_error: () => t('Something went wrong.'),
    ...loanErrors(d),
    ...commissionErrors(d),
  };
  const describe = known[error.code];
  if (describe) return describe();
  return errorMessage(error.code) || error.message || t('Something went wrong.');
}

function loanErrors(d) {
  const range = { min: d.min, max: d.max };
  return {
    apr_over_cap: () => t('The all-in APR %(apr)s is above the legal cap of %(cap)s: refused.', { apr: formatPercent(d.apr), cap: formatPercent(d.apr_cap, 0) }),
    amount_out_of_range: () => t('The amount must be between %(min)s and %(max)s for this product.', { min: formatMoney(d.min), max: formatMoney(d.max) }),
    term_out_of_range: () => t('The term must be between %(min)s and %(max)s months for this product.', range),
    rate_out_of_range: () => t('The interest rate must be between %(min)s and %(max)s for this product.', { min: formatPercent(d.min), max: formatPercent(d.max) }),
    overpayment: () => t('The payment is more than the %(outstanding)s still owed on this loan.', { outstanding: formatMoney(d.outstanding) }),
    invalid_amount: () => t('The amount must be above 0.'),
    invalid_disbursed_amount: () => t('The amount paid out must be above 0 and at most the approved %(approved)s.', { approved: formatMoney(d.approved) }),
    disbursed_in_future: () => t('The date cannot be in the future.'),
    paid_in_future: () => t('The date cannot be in the future.'),
    unsupported_file_type: () => t('Only PDF, JPEG, PNG or WEBP files can be uploaded.'),
    file_too_large: () => t('The file is larger than 10 MB.'),
    empty_file: () => t('The file is empty.'),
    application_locked: () => t('The application cannot be changed in its current status.'),
    invalid_application_transition: () => t('This step is not possible in the current status; reload the page.'),
    invalid_loan_terms: () => t('These terms do not make a loan: the fees take the whole amount, or a value is invalid.'),
    no_contract: () => t('Generate the contract before it is signed.'),
    product_inactive: () => t('This product is switched off; choose another.'),
    duplicate_lender: () => t('A lender of that name exists already.'),
    duplicate_product: () => t('This lender has a product of that name already.'),
  };
}

function commissionErrors(d) {
  const statuses = { queued: t('queued'), running: t('being settled'), draft: t('a draft'), approved: t('approved'), paid: t('paid out'), failed: t('failed') };
  return {
    period_not_over: () => t('That month has not ended yet: it can be settled once it is over.'),
    settlement_running: () => t('That month is being settled right now; wait for it to finish.'),
    settlement_locked: () => t('The settlement is %(status)s: this is no longer possible; reload the page.', { status: statuses[d.status] || d.status }),
    period_closed: () => t('%(period)s is settled and approved: a new version can only start after it.', { period: d.closed_period }),
    plan_exists: () => t('This org already has a version starting that month.'),
    not_a_month_start: () => t('A plan version starts on the first day of a month.'),
  };
}

// Shows an API error next to the form that caused it, or as a toast.
export function showError(error, target) {
  const message = errorText(error);
  if (target) {
    target.textContent = message;
    target.hidden = false;
  } else {
    toast(message, 'error');
  }
}

// One API call made by a form or a button: `errorBox` is hidden first and shows the refusal; a
// toast says `success` when it worked. The API's answer, or null when it was refused.
export async function attempt(call, errorBox, success) {
  errorBox.hidden = true;
  try {
    const answer = await call();
    if (success) toast(success, 'success');
    return answer;
  } catch (error) {
    showError(error, errorBox);
    return null;
  }
}

// Polls GET /api/v1/jobs/{id} into a progress bar until the job ends; resolves with the job.
export function watchJob(jobId, element, { interval = 700 } = {}) {
  const bar = el('progress', { max: '1', value: '0' });
  const label = el('span', { class: 'job-status' }, t('Queued'));
  element.replaceChildren(bar, label);
  const labels = { queued: t('Queued'), started: t('Running'), finished: t('Done'), failed: t('Failed') };
  return new Promise((resolve, reject) => {
    const poll = async () => {
      let job;
      try {
        job = await api.get(`jobs/${jobId}`);
      } catch (error) {
        reject(error);
        return;
      }
      bar.value = job.status === 'finished' ? 1 : job.progress;
      label.textContent = `${labels[job.status]} ${Math.round(bar.value * 100)}%`;
      if (job.status === 'finished') resolve(job);
      else if (job.status === 'failed') reject(Object.assign(new Error(job.error ? job.error.message : t('Failed')), { job }));
      else setTimeout(poll, interval);
    };
    poll();
  });
}

// Puts `rows` (tr elements) in a data_table's body, or one row saying `empty` when there are none
export function fillTable(table, rows, columns, empty = t('Nothing here yet.')) {
  const tbody = table.querySelector('tbody');
  tbody.replaceChildren(...rows);
  if (!rows.length) tbody.append(el('tr', {}, el('td', { colspan: columns, class: 'empty' }, empty)));
}

// Fills the pager macro (templates/macros/ui.html): the total in words, page N of M, the buttons
export function showPager({ page, total, perPage, totalText }) {
  const pages = Math.max(1, Math.ceil(total / perPage));
  document.getElementById('total').textContent = totalText;
  document.getElementById('page-number').textContent = t('Page %(page)s of %(pages)s', { page, pages });
  document.getElementById('prev-page').disabled = page <= 1;
  document.getElementById('next-page').disabled = page >= pages;
}

// Reads a <script type="application/json" id="..."> data block rendered by the page.
export function pageData(id) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : null;
}
