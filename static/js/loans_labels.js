// Words and small pieces the loans pages share: the API's codes in the user's language, rates
// with their flag, durations, ranges. Functions, not constants: each msgid stays a literal
// t('...') for pybabel extract, read once the catalogue is here.
import { currentLang, t } from './i18n.js';
import { el, formatMoney, formatPercent } from './ui.js';

export function methodLabels() {
  return {
    equal_installment: t('Equal installments'),
    equal_principal: t('Equal principal'),
    interest_only: t('Interest first, principal at the end'),
    bullet: t('Principal and interest at maturity'),
  };
}

export function applicationStatusLabels() {
  return {
    draft: t('Draft'),
    submitted: t('Awaiting review'),
    under_review: t('Under review'),
    needs_documents: t('Needs documents'),
    approved: t('Approved'),
    rejected: t('Rejected'),
    contract_signed: t('Contract signed'),
    disbursed: t('Disbursed'),
    cancelled: t('Cancelled'),
  };
}

export function installmentStatusLabels() {
  return { pending: t('Not yet due'), partial: t('Partly paid'), paid: t('Paid'), overdue: t('Overdue') };
}

export function loanStatusLabels() {
  return { active: t('Repaying'), repaid: t('Repaid'), cancelled: t('Cancelled') };
}

export function documentKindLabels() {
  return {
    id_card: t('ID card'),
    income_proof: t('Proof of income'),
    bank_statement: t('Bank statement'),
    credit_report: t('Credit report'),
    other: t('Other'),
  };
}

export function lenderKindLabels() {
  return { bank: t('Bank'), consumer_finance: t('Consumer finance company'), microloan: t('Microloan company') };
}

export function feeBasisLabels() {
  return {
    upfront_rate: t('Share of the amount, at disbursement'),
    upfront_fixed: t('Fixed CNY, at disbursement'),
    monthly_rate: t('Share of the amount, every month'),
    monthly_fixed: t('Fixed CNY, every month'),
  };
}

export function collectorLabels() {
  return { broker: t('Us (broker)'), lender: t('Lender') };
}

export function signMethodLabels() {
  return { in_person: t('In person'), e_signature: t('E-signature'), video: t('Video') };
}

// A status as a badge whose class the stylesheet colours (status-approved, inst-overdue...)
export function badge(prefix, code, labels) {
  return el('span', { class: `badge ${prefix}-${code}`, 'data-status': code }, labels[code] || code);
}

// The all-in APR, with a visible ⚠ when it is above the org's flag line (24% by default)
export function aprText(apr, flagged) {
  return el(
    'span',
    { class: flagged ? 'apr flagged' : 'apr', title: flagged ? t('High all-in APR: above the warning line') : null, 'data-flagged': flagged ? 'true' : 'false' },
    formatPercent(apr),
    flagged ? ' ⚠' : '',
  );
}

// ¥50,000 – ¥300,000: ranges are whole yuan, so they go without the cents
export function moneyRange(low, high) {
  const yuan = new Intl.NumberFormat(currentLang(), { style: 'currency', currency: 'CNY', minimumFractionDigits: 0, maximumFractionDigits: 0 });
  const show = (value) => (Number.isInteger(Number(value)) ? yuan.format(Number(value)) : formatMoney(value));
  return `${show(low)} – ${show(high)}`;
}

export function termRange(low, high) {
  return t('%(min)s–%(max)s months', { min: low, max: high });
}

export function rateRange(low, high) {
  return `${formatPercent(low)} – ${formatPercent(high)}`;
}

// 7,500 seconds: "2 小时 5 分" / "2 h 5 min"
export function durationWords(seconds) {
  if (seconds === null || seconds === undefined) return '';
  const minutes = Math.floor(seconds / 60);
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  if (days) return t('%(days)s d %(hours)s h', { days, hours });
  if (hours) return t('%(hours)s h %(minutes)s min', { hours, minutes: minutes % 60 });
  return t('%(minutes)s min', { minutes });
}

// An exclusion or to-confirm reason in the page's language (the API gives both)
export function reasonText(reason) {
  return currentLang() === 'en' ? reason.message_en : reason.message;
}

// "12.5" shifted by -2 places is "0.125": rates typed as percentages reach the API as exact
// decimal strings, never through a float
export function shiftDecimal(text, places) {
  const match = /^(\d*)(?:\.(\d*))?$/.exec(String(text).trim());
  if (!match) return null;
  let [whole, fraction] = [match[1] || '0', match[2] || ''];
  if (places > 0) {
    fraction = fraction.padEnd(places, '0');
    [whole, fraction] = [whole + fraction.slice(0, places), fraction.slice(places)];
  } else {
    whole = whole.padStart(-places + 1, '0');
    [whole, fraction] = [whole.slice(0, places), whole.slice(places) + fraction];
  }
  whole = whole.replace(/^0+(?=\d)/, '');
  fraction = fraction.replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : whole;
}

export const percentToFraction = (text) => shiftDecimal(text, -2);
export const fractionToPercent = (text) => shiftDecimal(text, 2);
