// Commission plan versions of every org (headquarters' is the partners' default) and the form
// for a new version, which starts from the org's latest one. Shares and tier rates are typed as
// percentages and sent as exact decimal fractions (never through a float).
import { api } from './api.js';
import { t } from './i18n.js';
import { attempt, el, fillTable, formatMoney, pageData, showError } from './ui.js';
import { fractionToPercent, percentToFraction } from './loans_labels.js';
import { accrualLabels, monthText, splitText, tierModeLabels, tiersText } from './commissions_labels.js';

const $ = (selector) => document.querySelector(selector);
const config = pageData('plans-page');
const form = $('#plan-form');
const FEES = ['service_fee_split', 'channel_fee_split'];
const SHARES = ['agent', 'team_lead', 'org'];
const state = { plans: [], orgs: new Map() };
// what a first version starts from: HQ's demo plan's shape
const BLANK = {
  name: '',
  terms: {
    service_fee_split: { agent: '0.10', team_lead: '0.05', org: '0.30' },
    channel_fee_split: { agent: '0.10', team_lead: '0.05', org: '0.30' },
    tiers: [], tier_mode: 'whole', agent_monthly_cap: null, accrue_on: 'disbursement', clawback_days: 90, clawback_overdue_days: 30,
  },
};

const orgName = (id) => (state.orgs.get(id) || {}).name || `#${id}`;
const today = () => new Date().toISOString().slice(0, 10);

// the version of each org in force today: the latest that has started
function inForce() {
  const current = new Map();
  for (const plan of state.plans) if (plan.effective_from <= today()) current.set(plan.org_id, plan.id);
  return new Set(current.values());
}

function planRow(plan, current) {
  const terms = plan.terms;
  const clawback = t('%(days)s days; overdue more than %(overdue)s days', { days: terms.clawback_days, overdue: terms.clawback_overdue_days });
  return el('tr', { dataset: { planId: plan.id }, class: current.has(plan.id) ? 'current' : '' },
    el('td', {}, orgName(plan.org_id)),
    el('td', {}, monthText(plan.effective_from.slice(0, 7)), current.has(plan.id) ? el('span', { class: 'badge' }, t('In force')) : null),
    el('td', {}, plan.name),
    el('td', { class: 'wrap' }, splitText(terms.service_fee_split)),
    el('td', { class: 'wrap' }, splitText(terms.channel_fee_split)),
    el('td', { class: 'wrap' }, tiersText(terms.tiers)),
    el('td', { class: 'wrap' }, tierModeLabels()[terms.tier_mode]),
    el('td', { class: 'num' }, terms.agent_monthly_cap === null ? t('None') : formatMoney(terms.agent_monthly_cap)),
    el('td', { class: 'wrap' }, accrualLabels()[terms.accrue_on]),
    el('td', { class: 'wrap' }, clawback),
  );
}

function addTierRow(tier = {}) {
  const row = $('#tier-row').content.firstElementChild.cloneNode(true);
  row.querySelector('[name="tier.min_volume"]').value = tier.min_volume ?? '';
  row.querySelector('[name="tier.agent_rate"]').value = tier.agent_rate === undefined ? '' : fractionToPercent(tier.agent_rate);
  row.querySelector('[data-remove-tier]').addEventListener('click', () => row.remove());
  $('#tier-rows').append(row);
}

// the form from the latest version of the org (else headquarters', else BLANK)
function fillFrom(orgId) {
  const latest = (id) => state.plans.filter((plan) => plan.org_id === id).at(-1);
  const hq = [...state.orgs.values()].find((org) => org.kind === 'hq');
  const { name, terms } = latest(orgId) || (hq && latest(hq.id)) || BLANK;
  form.elements.name.value = name;
  for (const fee of FEES) {
    for (const share of SHARES) form.elements[`${fee}.${share}`].value = fractionToPercent(terms[fee][share]);
  }
  $('#tier-rows').replaceChildren();
  for (const tier of terms.tiers) addTierRow(tier);
  form.elements.tier_mode.value = terms.tier_mode;
  form.elements.agent_monthly_cap.value = terms.agent_monthly_cap ?? '';
  form.elements.accrue_on.value = terms.accrue_on;
  form.elements.clawback_days.value = terms.clawback_days;
  form.elements.clawback_overdue_days.value = terms.clawback_overdue_days;
}

// a percentage typed as "12.5" goes as "0.125"; what is not a number goes as typed, and the
// API says which field is wrong
const fraction = (text) => percentToFraction(text) ?? text.trim();

function readTiers() {
  return [...$('#tier-rows').children].map((row) => ({
    min_volume: row.querySelector('[name="tier.min_volume"]').value.trim(),
    agent_rate: fraction(row.querySelector('[name="tier.agent_rate"]').value),
  }));
}

function readPlan() {
  const value = (name) => form.elements[name].value.trim();
  const split = (fee) => Object.fromEntries(SHARES.map((share) => [share, fraction(value(`${fee}.${share}`))]));
  return {
    org_id: Number(value('org_id')),
    name: value('name'),
    effective_from: `${value('effective_month')}-01`,
    service_fee_split: split('service_fee_split'),
    channel_fee_split: split('channel_fee_split'),
    tiers: readTiers(),
    tier_mode: value('tier_mode'),
    agent_monthly_cap: value('agent_monthly_cap') || null,
    accrue_on: value('accrue_on'),
    clawback_days: Number(value('clawback_days')),
    clawback_overdue_days: Number(value('clawback_overdue_days')),
  };
}

// the API's two rules of a plan's shape, said in the page's language before it refuses them
function planProblem(plan) {
  const volumes = plan.tiers.map((tier) => Number(tier.min_volume));
  if (volumes.length && (volumes[0] !== 0 || volumes.some((v, i) => i && v <= volumes[i - 1]))) {
    return t('Tiers start at a volume of 0 and each starts above the one before.');
  }
  const top = plan.tiers.length ? Math.max(...plan.tiers.map((tier) => Number(tier.agent_rate))) : null;
  const labels = { service_fee_split: t('Service fee split'), channel_fee_split: t('Channel fee split') };
  for (const fee of FEES) {
    const split = plan[fee];
    const total = (top ?? Number(split.agent)) + Number(split.team_lead) + Number(split.org);
    if (total > 1 + 1e-9) return t('%(fee)s: the shares (with the top tier) come to more than the whole fee.', { fee: labels[fee] });
  }
  return null;
}

async function save(event) {
  event.preventDefault();
  const plan = readPlan();
  const problem = planProblem(plan);
  if (problem) {
    $('#plan-error').textContent = problem;
    $('#plan-error').hidden = false;
    return;
  }
  if (!(await attempt(() => api.post('commission-plans', plan), $('#plan-error'), t('Plan version added')))) return;
  await reload();
}

async function reload() {
  const plans = await attempt(() => api.get('commission-plans'), $('#page-error'));
  if (!plans) return;
  state.plans = plans;
  const current = inForce();
  fillTable($('#plans-table'), plans.map((plan) => planRow(plan, current)), 10, t('No plan yet: loans earn no commission until there is one.'));
  fillFrom(Number(form.elements.org_id.value));
}

async function init() {
  try {
    const page = await api.get('orgs', { per_page: 200 });
    state.orgs = new Map(page.items.map((org) => [org.id, org]));
  } catch (error) {
    showError(error, $('#page-error'));
    state.orgs = new Map([[config.org_id, { id: config.org_id, name: `#${config.org_id}`, kind: 'hq' }]]);
  }
  form.elements.org_id.replaceChildren(...[...state.orgs.values()].map((org) => new Option(org.name, org.id)));
  form.elements.org_id.value = config.org_id;
  form.elements.org_id.addEventListener('change', (event) => fillFrom(Number(event.target.value)));
  $('#add-tier').addEventListener('click', () => addTierRow());
  form.addEventListener('submit', save);
  await reload();
}

init();
