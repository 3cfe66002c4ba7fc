// One commission statement: who it pays for which month, its status and total, and every line
// in words (a fee share of a loan, a clawback, the cap, a manual adjustment) with its base, rate
// and note. The CSV, XLSX and PDF links are in the page.
import { api } from './api.js';
import { t } from './i18n.js';
import { attempt, el, fillTable, formatMoney, formatTime, pageData } from './ui.js';
import { lineKindLabels, monthText, payeeRoleLabels, statusBadge } from './commissions_labels.js';

const $ = (selector) => document.querySelector(selector);
const config = pageData('statement-page');

// a line's rate has six places (0.100000): four are enough to read it
const rateText = (rate) => (rate === null ? '' : `${(Number(rate) * 100).toFixed(4).replace(/\.?0+$/, '')}%`);

async function orgName(orgId) {
  if (!config.sees_all_orgs) return null;
  try {
    const page = await api.get('orgs', { per_page: 200 });
    return (page.items.find((org) => org.id === orgId) || {}).name || `#${orgId}`;
  } catch {
    return `#${orgId}`;
  }
}

function renderSummary(s, org) {
  const field = (label, value, attrs = {}) => [el('dt', {}, label), el('dd', attrs, value || '—')];
  $('#statement-title').textContent = t('Statement of %(month)s · %(payee)s', { month: monthText(s.period), payee: s.payee_name });
  $('#statement-status').replaceChildren(statusBadge(s.status));
  $('#statement-summary').replaceChildren(
    ...field(t('Payee'), s.payee_name),
    ...field(t('Role'), payeeRoleLabels()[s.payee_role] || s.payee_role),
    ...field(t('Month'), monthText(s.period)),
    ...(org ? field(t('Org'), org) : []),
    ...field(t('Total'), formatMoney(s.total), { 'data-testid': 'statement-total' }),
    ...field(t('Lines'), String(s.lines.length)),
    ...field(t('Approved at'), formatTime(s.approved_at)),
    ...field(t('Paid out at'), formatTime(s.paid_at)),
  );
}

function lineRow(line, n) {
  const kinds = lineKindLabels();
  const num = (value) => el('td', { class: 'num' }, value === null ? '' : formatMoney(value));
  return el('tr', { dataset: { kind: line.kind }, 'data-testid': 'statement-line' },
    el('td', {}, String(n)),
    el('td', {}, kinds[line.kind] || line.kind),
    el('td', {}, line.loan_id ? el('a', { href: `/loans/${line.loan_id}` }, `#${line.loan_id}`) : ''),
    num(line.base),
    el('td', { class: 'num' }, rateText(line.rate)),
    num(line.amount),
    el('td', { class: 'wrap' }, line.note || ''),
  );
}

function renderLines(s) {
  const table = $('#lines-table');
  fillTable(table, s.lines.map((line, i) => lineRow(line, i + 1)), 7, t('No lines.'));
  const foot = table.tFoot || table.createTFoot();
  foot.replaceChildren(el('tr', { class: 'total' },
    el('td', { colspan: 5 }, t('Total')),
    el('td', { class: 'num' }, formatMoney(s.total)),
    el('td', {})));
}

async function load() {
  const statement = await attempt(() => api.get(`statements/${config.statement_id}`), $('#page-error'));
  if (!statement) {
    for (const link of document.querySelectorAll('[data-testid^=download-]')) link.hidden = true;
    return;
  }
  renderSummary(statement, await orgName(statement.org_id));
  renderLines(statement);
}

load();
