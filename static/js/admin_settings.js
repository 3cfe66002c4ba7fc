// The org settings form, built from whatever GET /orgs/{id}/settings returns (nested objects such
// as the scoring weights become fieldsets), so a new setting needs no change here.
import { api } from './api.js';
import { t } from './i18n.js';
import { el, showError, toast } from './ui.js';

// Labels for the settings we know; any other key shows as its name.
function settingLabels() {
  return {
    timezone: t('Time zone'),
    calling_hours_start: t('Calling hours start'),
    calling_hours_end: t('Calling hours end'),
    max_private_leads: t('Most leads one agent may own'),
    recycle_after_days: t('Recycle after days without follow-up'),
    stale_after_days: t('Recycle after days without stage progress'),
    reclaim_cooldown_days: t('Days before a former owner may reclaim'),
    max_calls_per_lead_per_day: t('Most calls per lead per day'),
    daily_claim_cap: t('Most claims per agent per day'),
    daily_open_cap: t('Most public-pool leads an agent may open per day'),
    escalate_after_hours: t('Alert the team lead after hours overdue'),
    reassign_after_hours: t('Reassign after hours overdue'),
    retention_days: t('Keep inactive leads for days'),
    scoring: t('Lead scoring weights'),
    // inside scoring (crm/scoring/settings.py)
    weights: t('Most points per factor'),
    phone: t('Mobile number'),
    region: t('Number from a city we serve'),
    completeness: t('Record filled in'),
    qualifications: t('Qualifications'),
    income: t('Amount against income'),
    age: t('Age band'),
    source: t('Source conversion'),
    engagement: t('Recent contact'),
    duplicates: t('Number held by no other org'),
    qualification_shares: t('Share of the qualifications points'),
    provident_fund: t('Provident fund'),
    social_security: t('Social security'),
    house: t('House'),
    car: t('Car'),
    insurance_policy: t('Insurance policy'),
    business_licence: t('Business licence'),
    best_age: t('Full-points age [youngest, oldest]'),
    fair_age: t('Half-points age [youngest, oldest]'),
    engagement_days: t('Recent contact window (days)'),
    conversion_stage: t('Stage that counts as converted'),
    prior_leads: t('Leads a new source is assumed to have'),
  };
}

function inputFor(path, value) {
  const name = path.join('.');
  if (typeof value === 'boolean') {
    return el('input', { type: 'checkbox', name, checked: value, dataset: { kind: 'bool' } });
  }
  if (typeof value === 'number') {
    return el('input', { type: 'number', name, value: String(value), step: 'any', dataset: { kind: 'number' } });
  }
  if (value !== null && typeof value === 'object') {
    return el('input', { name, value: JSON.stringify(value), dataset: { kind: 'json' } });
  }
  return el('input', { name, value: value ?? '' });
}

function fieldsFor(values, path, labels) {
  return Object.entries(values).map(([key, value]) => {
    const label = labels[key] || key;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      return el('fieldset', { class: 'form-grid wide' }, el('legend', {}, label), ...fieldsFor(value, [...path, key], labels));
    }
    return el('label', {}, label, inputFor([...path, key], value));
  });
}

function readValue(input) {
  if (input.dataset.kind === 'bool') return input.checked;
  if (input.dataset.kind === 'number') return Number(input.value);
  if (input.dataset.kind === 'json') return JSON.parse(input.value);
  return input.value;
}

// Only top-level keys that changed are sent; a nested object is sent whole.
function changes(form, original) {
  const edited = structuredClone(original);
  for (const input of form.querySelectorAll('input[name]')) {
    const path = input.name.split('.');
    let target = edited;
    for (const key of path.slice(0, -1)) target = target[key];
    target[path.at(-1)] = readValue(input);
  }
  return Object.fromEntries(
    Object.entries(edited).filter(([key, value]) => JSON.stringify(value) !== JSON.stringify(original[key])),
  );
}

export async function initSettings(orgSelect, errorBox) {
  const form = document.getElementById('settings-form');
  const holder = document.getElementById('settings-fields');
  let original = {};
  const load = async () => {
    errorBox.hidden = true;
    try {
      original = await api.get(`orgs/${orgSelect.value}/settings`);
    } catch (error) {
      holder.replaceChildren();
      showError(error, errorBox);
      return;
    }
    holder.replaceChildren(...fieldsFor(original, [], settingLabels()));
  };
  orgSelect.addEventListener('change', load);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    errorBox.hidden = true;
    let body;
    try {
      body = changes(form, original);
    } catch {
      showError({ message: t('A list or object field is not valid JSON.') }, errorBox);
      return;
    }
    if (!Object.keys(body).length) return toast(t('Nothing changed'), 'info');
    try {
      original = await api.patch(`orgs/${orgSelect.value}/settings`, body);
      toast(t('Settings saved'), 'success');
      load();
    } catch (error) {
      showError(error, errorBox);
    }
  });
  await load();
}
