// Words and small pieces the commission pages share: statuses, line kinds, payee roles and plan
// terms in the user's language, months, and a statement as a table row. Functions, not
// constants: each msgid stays a literal t('...') for pybabel extract.
import { t } from './i18n.js';
import { el, formatMoney, formatPercent } from './ui.js';
import { badge } from './loans_labels.js';

export function statementStatusLabels() {
  return { draft: t('Draft'), approved: t('Approved'), paid: t('Paid out') };
}

export function settlementStatusLabels() {
  return { ...statementStatusLabels(), queued: t('Queued'), running: t('Settling'), failed: t('Failed') };
}

export function lineKindLabels() {
  return {
    service_fee: t('Service fee share'),
    channel_fee: t('Channel fee share'),
    clawback: t('Clawback'),
    cap: t('Monthly cap adjustment'),
    adjustment: t('Manual adjustment'),
  };
}

export function payeeRoleLabels() {
  return { agent: t('Agent'), team_lead: t('Team lead'), partner_org: t('Partner org (rebate)') };
}

export function tierModeLabels() {
  return { whole: t('Whole month at the tier reached'), marginal: t('Each band at its own rate') };
}

export function accrualLabels() {
  return { disbursement: t('When the loan is paid out'), fee_collected: t('When the fee is collected') };
}

export const statusBadge = (status) => badge('commission', status, settlementStatusLabels());

// "2026-11" as 2026年11月 / Nov 2026
export function monthText(period) {
  if (!period) return '';
  const [year, month] = period.split('-');
  return t('%(month)s/%(year)s', { year, month: Number(month) });
}

// One statement as a row of a list: month, payee, role, [org], status, total, and its link
export function statementRow(s, orgName) {
  return el('tr', { dataset: { statementId: s.id, payee: s.payee_key } },
    el('td', {}, monthText(s.period)),
    el('td', {}, s.payee_name),
    el('td', {}, payeeRoleLabels()[s.payee_role] || s.payee_role),
    orgName ? el('td', {}, orgName(s.org_id)) : null,
    el('td', {}, statusBadge(s.status)),
    el('td', { class: 'num', 'data-testid': 'statement-total' }, formatMoney(s.total)),
    el('td', {}, el('a', { href: `/commissions/statements/${s.id}` }, t('Open'))),
  );
}

// A plan's split of one fee: "坐席 10.00% · 组长 5.00% · 合伙机构 30.00%"
export function splitText(split) {
  const roles = payeeRoleLabels();
  return [
    `${roles.agent} ${formatPercent(split.agent)}`,
    `${roles.team_lead} ${formatPercent(split.team_lead)}`,
    `${t('Partner org')} ${formatPercent(split.org)}`,
  ].join(' · ');
}

export function tiersText(tiers) {
  if (!tiers.length) return t('No tiers');
  return tiers.map((tier) => t('from %(volume)s: %(rate)s', { volume: formatMoney(tier.min_volume), rate: formatPercent(tier.agent_rate) })).join('；');
}
