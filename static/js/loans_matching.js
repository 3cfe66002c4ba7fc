// Matching a lead against the products its org may use: on the lead page every product, the
// eligible ones ranked with their all-in APR and what to confirm with the customer, the excluded
// ones with each reason; on the console a one-line summary of the best few.
import { api } from './api.js';
import { t } from './i18n.js';
import { el } from './ui.js';
import { aprText, methodLabels, moneyRange, reasonText, termRange } from './loans_labels.js';

export const loadMatches = (leadId) => api.get(`leads/${leadId}/matches`);

function productLine(product) {
  const method = methodLabels()[product.repayment_method] || product.repayment_method;
  return el('div', { class: 'match-product' },
    el('b', { class: 'match-name' }, product.name),
    el('span', {}, product.lender_name),
    aprText(product.apr_worst, product.apr_flagged),
    el('span', { class: 'muted' }, [moneyRange(product.min_amount, product.max_amount),
      termRange(product.min_term_months, product.max_term_months), method].join(' · ')));
}

function reasonList(reasons, kind) {
  if (!reasons.length) return null;
  return el('ul', { class: `reasons ${kind}` },
    ...reasons.map((reason) => el('li', { dataset: { rule: reason.rule, code: reason.code } }, reasonText(reason))));
}

function eligibleItem(match, onApply) {
  return el('li', { class: 'match eligible', dataset: { productId: match.product.id }, 'data-testid': 'eligible-product' },
    productLine(match.product),
    match.to_confirm.length ? el('div', { class: 'muted' }, t('To confirm with the customer:')) : null,
    reasonList(match.to_confirm, 'to-confirm'),
    onApply ? el('button', { type: 'button', class: 'primary', onclick: () => onApply(match.product) }, t('Apply')) : null);
}

/** The lead page's panel; `onApply(product)` opens the application form (null: no button). */
export function renderMatches(container, matches, onApply) {
  const excluded = matches.excluded.map((match) => el('li', { class: 'match excluded', dataset: { productId: match.product.id }, 'data-testid': 'excluded-product' },
    productLine(match.product),
    reasonList(match.exclusions, 'exclusions')));
  container.replaceChildren(
    el('h3', {}, t('Eligible, best fit first (%(count)s)', { count: matches.eligible.length })),
    matches.eligible.length
      ? el('ol', { class: 'match-list' }, ...matches.eligible.map((match) => eligibleItem(match, onApply)))
      : el('p', { class: 'muted' }, t('No product fits this lead: see the reasons below, or complete the qualifications.')),
    el('h3', {}, t('Excluded (%(count)s)', { count: excluded.length })),
    el('ul', { class: 'match-list' }, ...excluded),
  );
}

/** The console's compact summary: the best `shown` products and how many are excluded. */
export function renderMatchSummary(container, matches, shown = 3) {
  const top = matches.eligible.slice(0, shown);
  const more = matches.eligible.length - top.length;
  const parts = [
    el('b', {}, t('Products')),
    ...top.map((match) => el('span', { class: 'match-chip', 'data-testid': 'match-chip' },
      `${match.product.name} · ${match.product.lender_name} `, aprText(match.product.apr_worst, match.product.apr_flagged))),
    top.length ? null : el('span', { class: 'muted' }, t('No eligible product')),
    more > 0 ? el('span', { class: 'muted' }, t('%(count)s more eligible', { count: more })) : null,
    el('span', { class: 'muted', 'data-testid': 'excluded-count' }, t('%(count)s excluded', { count: matches.excluded.length })),
    el('a', { href: `/leads/${matches.lead_id}`, target: '_blank', rel: 'noopener' }, t('Details')),
  ];
  container.replaceChildren(...parts.filter(Boolean));
}
