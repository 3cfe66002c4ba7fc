// The overdue list: unpaid installments past due with days past due and their M1/M2/M3 bucket,
// the oldest first, each linking to its loan; the page number stays in the URL.
import { api } from './api.js';
import { t } from './i18n.js';
import { attempt, el, fillTable, formatMoney, showPager } from './ui.js';

const $ = (selector) => document.querySelector(selector);
const PER_PAGE = 50;
let page = Number(new URLSearchParams(window.location.search).get('page') || 1);

function row(item) {
  const owed = (Math.round(Number(item.total) * 100) - Math.round(Number(item.paid) * 100)) / 100;
  return el('tr', { dataset: { loanId: item.loan_id } },
    el('td', {}, el('a', { href: `/loans/${item.loan_id}` }, `#${item.loan_id}`)),
    el('td', {}, t('No. %(n)s', { n: item.n })),
    el('td', {}, item.due_date),
    el('td', { class: 'num' }, formatMoney(item.total)),
    el('td', { class: 'num' }, formatMoney(item.paid)),
    el('td', { class: 'num' }, formatMoney(owed)),
    el('td', { class: 'num', 'data-testid': 'days-past-due' }, String(item.days_past_due)),
    el('td', {}, el('span', { class: `badge bucket bucket-${(item.bucket || '').replace('+', 'plus')}` }, item.bucket || '')),
  );
}

async function load() {
  window.history.replaceState(null, '', page > 1 ? `?page=${page}` : window.location.pathname);
  const result = await attempt(() => api.get('loans/overdue', { page, per_page: PER_PAGE }), $('#list-error'));
  if (!result) return;
  fillTable($('#overdue-table'), result.items.map(row), 8, t('Nothing is overdue.'));
  const totalText = t('%(count)s overdue installments', { count: result.total });
  showPager({ page, total: result.total, perPage: PER_PAGE, totalText });
}

$('#prev-page').addEventListener('click', () => { page -= 1; load(); });
$('#next-page').addEventListener('click', () => { page += 1; load(); });
load();
