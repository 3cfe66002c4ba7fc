// An agent's commission as it stands, for the pages they work on: the month so far (the
// commissions page and the console) and what an application would add once disbursed (the
// application page). Both are worked out live by the API with the settlement's rules.
import { api } from './api.js';
import { t } from './i18n.js';
import { el, formatMoney, formatPercent } from './ui.js';
import { monthText } from './commissions_labels.js';

function figure(label, value, testid) {
  return el('div', { class: 'figure' },
    el('span', { class: 'figure-label' }, label),
    el('span', { class: 'figure-value', 'data-testid': testid }, value));
}

/** Fills `box` with the month so far: earned, loans, volume and tier; `compact` for the console. */
export async function showMyMonth(box, { compact = false } = {}) {
  let month;
  try {
    month = await api.get('commissions/me');
  } catch {
    box.hidden = true;
    return null;
  }
  // the API names no tier before the month's first loan, even under a plan with tiers
  let tier = month.loans ? t('No tiers') : '—';
  if (month.tier_rate !== null) tier = formatPercent(month.tier_rate);
  if (compact) {
    box.replaceChildren(
      el('a', { href: '/commissions', title: t('This month so far') }, t('Commission this month')),
      el('b', { 'data-testid': 'month-earned' }, formatMoney(month.earned)),
      el('span', { class: 'muted' }, t('Volume %(volume)s · tier %(tier)s', { volume: formatMoney(month.disbursed_volume), tier })),
    );
  } else {
    box.replaceChildren(
      figure(t('Earned so far in %(month)s', { month: monthText(month.period) }), formatMoney(month.earned), 'month-earned'),
      figure(t('Loans disbursed'), String(month.loans), 'month-loans'),
      figure(t('Disbursed volume'), formatMoney(month.disbursed_volume), 'month-volume'),
      figure(t('Tier rate'), tier, 'month-tier'),
    );
  }
  box.hidden = false;
  return month;
}

// statuses in which the application may still become a loan
const ON_THE_WAY = new Set(['draft', 'submitted', 'under_review', 'needs_documents', 'approved', 'contract_signed']);

/** "放款后预计佣金 ¥X" in `box` for the agent who made the application, while it may still
 * become a loan; hidden otherwise (or when the estimate cannot be had). */
export async function showEstimate(box, app, userId) {
  if (app.agent_id !== userId || !ON_THE_WAY.has(app.status)) {
    box.hidden = true;
    return;
  }
  try {
    const estimate = await api.get(`applications/${app.id}/commission-estimate`);
    box.textContent = t('Expected commission once disbursed: %(amount)s', { amount: formatMoney(estimate.agent_amount) });
    box.hidden = false;
  } catch {
    box.hidden = true;
  }
}
