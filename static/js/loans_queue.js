// The applications list: a reviewer's own queue (longest waiting first) or every application the
// user may see, by status; the queue, status and page stay in the URL.
import { api } from './api.js';
import { t } from './i18n.js';
import { attempt, el, fillTable, formatMoney, formatTime, pageData, showPager } from './ui.js';
import { aprText, applicationStatusLabels, badge, durationWords } from './loans_labels.js';

const $ = (selector) => document.querySelector(selector);
const config = pageData('applications-page');
const filters = $('#queue-filters');
const PER_PAGE = 50;
const view = { queue: config.can_review ? 'mine' : 'all', status: '', page: 1 };

function readUrl() {
  const params = new URLSearchParams(window.location.search);
  if (config.can_review && params.get('queue') === 'all') view.queue = 'all';
  view.status = params.get('status') || '';
  view.page = Number(params.get('page') || 1);
  filters.elements.status.value = view.status;
}

function writeUrl() {
  const params = {};
  if (config.can_review && view.queue !== 'mine') params.queue = view.queue;
  if (view.status) params.status = view.status;
  if (view.page > 1) params.page = view.page;
  const query = new URLSearchParams(params).toString();
  window.history.replaceState(null, '', query ? `?${query}` : window.location.pathname);
}

function row(app) {
  const labels = applicationStatusLabels();
  return el('tr', { dataset: { applicationId: app.id } },
    el('td', {}, el('a', { href: `/applications/${app.id}` }, `#${app.id}`)),
    el('td', {}, el('a', { href: `/leads/${app.lead_id}` }, app.lead_name_masked || `#${app.lead_id}`)),
    el('td', {}, `${app.lender_name} · ${app.product_name}`),
    el('td', { class: 'num' }, formatMoney(app.amount)),
    el('td', {}, t('%(months)s months', { months: app.term_months })),
    el('td', {}, aprText(app.apr, app.apr_flagged)),
    el('td', {}, badge('status', app.status, labels)),
    el('td', { 'data-testid': 'waiting' }, durationWords(app.seconds_in_review)),
    el('td', {}, formatTime(app.submitted_at)),
  );
}

async function load() {
  writeUrl();
  for (const tab of document.querySelectorAll('[data-queue]')) {
    tab.setAttribute('aria-selected', String(tab.dataset.queue === view.queue));
  }
  const params = { queue: view.queue, status: view.status, page: view.page, per_page: PER_PAGE };
  const page = await attempt(() => api.get('applications', params), $('#list-error'));
  if (!page) return;
  const empty = view.queue === 'mine' ? t('Nothing is waiting for your review.') : t('No applications.');
  fillTable($('#applications-table'), page.items.map(row), 9, empty);
  const totalText = t('%(count)s applications', { count: page.total });
  showPager({ page: view.page, total: page.total, perPage: PER_PAGE, totalText });
}

function go(change) {
  Object.assign(view, change);
  load();
}

function init() {
  readUrl();
  for (const tab of document.querySelectorAll('[data-queue]')) {
    tab.addEventListener('click', () => go({ queue: tab.dataset.queue, page: 1 }));
  }
  filters.elements.status.addEventListener('change', (event) => go({ status: event.target.value, page: 1 }));
  filters.addEventListener('submit', (event) => event.preventDefault());
  $('#prev-page').addEventListener('click', () => go({ page: view.page - 1 }));
  $('#next-page').addEventListener('click', () => go({ page: view.page + 1 }));
  load();
}

init();
