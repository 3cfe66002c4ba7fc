// Commission statements: an agent's own by month (with the month so far above them), an org's
// for its admins and finance, every org's for headquarters (by month and org). The filters and
// page stay in the URL.
import { api } from './api.js';
import { t } from './i18n.js';
import { attempt, fillTable, pageData, showPager } from './ui.js';
import { statementRow } from './commissions_labels.js';
import { showMyMonth } from './commissions_month.js';

const $ = (selector) => document.querySelector(selector);
const config = pageData('statements-page');
const filters = $('#statement-filters');
const PER_PAGE = 50;
const COLUMNS = config.sees_all_orgs ? 7 : 6;
const view = { period: '', org: '', mine: false, page: 1 };
const orgs = new Map();

const orgName = (id) => (orgs.get(id) || {}).name || `#${id}`;

function readUrl() {
  const params = new URLSearchParams(window.location.search);
  view.period = params.get('period') || '';
  view.org = config.sees_all_orgs ? params.get('org_id') || '' : '';
  view.mine = params.get('mine') === 'true';
  view.page = Number(params.get('page') || 1);
}

function writeUrl() {
  const params = {};
  if (view.period) params.period = view.period;
  if (view.org) params.org_id = view.org;
  if (view.mine) params.mine = 'true';
  if (view.page > 1) params.page = view.page;
  const query = new URLSearchParams(params).toString();
  window.history.replaceState(null, '', query ? `?${query}` : window.location.pathname);
}

function showFilters() {
  filters.elements.period.value = view.period;
  if (filters.elements.org_id) filters.elements.org_id.value = view.org;
  if (filters.elements.mine) filters.elements.mine.checked = view.mine;
  $('#org-note').hidden = !view.org;
}

// GET /statements filters by month and payee but not by org: one org's month comes from its
// settlement, which holds every statement of that org and month
async function orgStatements() {
  const page = await api.get('settlements', { period: view.period, per_page: 200 });
  const items = page.items.filter((s) => String(s.org_id) === view.org).flatMap((s) => s.statements);
  return { items, total: items.length };
}

function statements() {
  if (view.org) return orgStatements();
  return api.get('statements', { period: view.period, mine: view.mine || null, page: view.page, per_page: PER_PAGE });
}

async function load() {
  if (view.org && !view.period) view.period = config.last_month;
  writeUrl();
  showFilters();
  const page = await attempt(statements, $('#list-error'));
  if (!page) return;
  const rows = page.items.map((s) => statementRow(s, config.sees_all_orgs ? orgName : null));
  const empty = view.period ? t('No statements for this month.') : t('No statements yet: a month has them once it is settled.');
  fillTable($('#statements-table'), rows, COLUMNS, empty);
  const totalText = t('%(count)s statements', { count: page.total });
  showPager({ page: view.org ? 1 : view.page, total: page.total, perPage: view.org ? Math.max(page.total, 1) : PER_PAGE, totalText });
}

function go(change) {
  Object.assign(view, { page: 1 }, change);
  load();
}

async function loadOrgs() {
  const page = await api.get('orgs', { per_page: 200 });
  for (const org of page.items) orgs.set(org.id, org);
  filters.elements.org_id.append(...page.items.map((org) => new Option(org.name, org.id)));
}

async function init() {
  readUrl();
  filters.addEventListener('submit', (event) => event.preventDefault());
  filters.elements.period.addEventListener('change', (event) => go({ period: event.target.value }));
  if (filters.elements.mine) filters.elements.mine.addEventListener('change', (event) => go({ mine: event.target.checked }));
  $('#prev-page').addEventListener('click', () => go({ page: view.page - 1 }));
  $('#next-page').addEventListener('click', () => go({ page: view.page + 1 }));
  if (config.sells) showMyMonth($('#my-month'));
  if (config.sees_all_orgs) {
    // without the names the ids show, and the statements still list
    await loadOrgs().catch(() => {});
    filters.elements.org_id.addEventListener('change', (event) => go({ org: event.target.value }));
  }
  load();
}

init();
