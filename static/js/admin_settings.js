// The org settings as a form a manager can read: grouped sections, each value with its unit,
// times as times, rates as percentages, the scoring weights as a table and the age bands as
// from-to pairs. A setting this page does not know yet still shows, under "Other settings".
import { api } from './api.js';
import { t } from './i18n.js';
import { el, showError, toast } from './ui.js';
import { scoreFactorLabels, stageLabels } from './console_labels.js';

// [path, label, kind, unit]; kinds: int, time, zone, percent (a rate "0.36" shown as 36)
function sections() {
  const days = t('days');
  const hours = t('hours');
  return [
    [t('Calling'), [
      ['calling_hours_start', t('Calls allowed from'), 'time'],
      ['calling_hours_end', t('Calls allowed until'), 'time'],
      ['timezone', t('Time zone'), 'zone'],
      ['max_calls_per_lead_per_day', t('Most calls per lead per day'), 'int', t('calls')],
    ]],
    [t('Lead pools'), [
      ['max_private_leads', t('Most leads one agent may work at once (customers past the application do not count)'), 'int', t('leads')],
      ['daily_claim_cap', t('Most claims per agent per day'), 'int', t('leads')],
      ['daily_open_cap', t('Most public-pool leads an agent may open per day'), 'int', t('leads')],
      ['recycle_after_days', t('Recycle after days without follow-up'), 'int', days],
      ['stale_after_days', t('Recycle after days without stage progress'), 'int', days],
      ['reclaim_cooldown_days', t('Days before a former owner may reclaim'), 'int', days],
    ]],
    [t('Missed follow-ups'), [
      ['escalate_after_hours', t('Alert the team lead after hours overdue'), 'int', hours],
      ['reassign_after_hours', t('Reassign after hours overdue'), 'int', hours],
    ]],
    [t("Each agent's daily targets"), [
      ['agent_daily_targets.calls', t('Calls'), 'int', t('calls')],
      ['agent_daily_targets.connected', t('Connected calls'), 'int', t('calls')],
      ['agent_daily_targets.talk_minutes', t('Talk time'), 'int', t('minutes')],
    ]],
    [t('Loans'), [
      ['apr_cap', t('All-in APR cap'), 'percent', '%'],
      ['apr_flag', t('Flag products and applications above'), 'percent', '%'],
    ]],
    [t('Personal data'), [['retention_days', t('Keep inactive leads for days'), 'int', days]]],
  ];
}

const ZONES = ['Asia/Shanghai', 'Asia/Urumqi', 'Asia/Hong_Kong', 'Asia/Taipei', 'Asia/Macau'];
const QUALIFICATIONS = ['provident_fund', 'social_security', 'house', 'car', 'insurance_policy', 'business_licence'];

function qualificationLabels() {
  return {
    provident_fund: t('Provident fund'),
    social_security: t('Social security'),
    house: t('House'),
    car: t('Car'),
    insurance_policy: t('Insurance policy'),
    business_licence: t('Business licence'),
  };
}

const read = (values, path) => path.split('.').reduce((v, key) => (v == null ? v : v[key]), values);

function input(path, kind, value) {
  const attrs = { name: path, dataset: { kind } };
  if (kind === 'time') return el('input', { ...attrs, type: 'time', value, required: true });
  if (kind === 'zone') {
    return el('select', attrs, ...[...new Set([value, ...ZONES])].map((z) => el('option', { value: z, selected: z === value }, z)));
  }
  if (kind === 'percent' || kind === 'share') {
    return el('input', { ...attrs, type: 'number', min: '0', max: '100', step: '0.01', value: String(+(Number(value) * 100).toFixed(4)) });
  }
  if (kind === 'int') return el('input', { ...attrs, type: 'number', min: '0', step: '1', value: String(value) });
  return el('input', { ...attrs, value: typeof value === 'object' ? JSON.stringify(value) : String(value ?? '') });
}

function field(label, control, unit) {
  return el('label', { class: 'setting' }, el('span', { class: 'setting-label' }, label),
    el('span', { class: 'setting-input' }, control, unit ? el('small', {}, unit) : null));
}

function scoringSection(scoring) {
  const factors = scoreFactorLabels();
  const quals = qualificationLabels();
  const stages = stageLabels();
  const pair = (name, label) => field(label, el('span', { class: 'pair' },
    input(`scoring.${name}.0`, 'int', scoring[name][0]), '–', input(`scoring.${name}.1`, 'int', scoring[name][1])), t('years old'));
  const stage = el('select', { name: 'scoring.conversion_stage', dataset: { kind: 'text' } },
    ...['contacted', 'qualified', 'applied', 'approved', 'disbursed'].map((s) =>
      el('option', { value: s, selected: s === scoring.conversion_stage }, stages[s])));
  return el('fieldset', { class: 'settings-section wide' }, el('legend', {}, t('Lead scoring')),
    el('p', { class: 'muted' }, t('The most points each factor gives; the score is the points won out of their sum (0-100).')),
    el('div', { class: 'weights' }, ...Object.keys(scoring.weights).map((f) =>
      field(factors[f] || f, input(`scoring.weights.${f}`, 'int', scoring.weights[f]), t('points')))),
    el('h4', {}, t('Share of the qualifications points')),
    el('div', { class: 'weights' }, ...QUALIFICATIONS.filter((q) => q in scoring.qualification_shares).map((q) =>
      field(quals[q], input(`scoring.qualification_shares.${q}`, 'share', scoring.qualification_shares[q]), '%'))),
    el('div', { class: 'settings-grid' },
      pair('best_age', t('Full points for ages')),
      pair('fair_age', t('Half points for ages')),
      field(t('Recent contact window'), input('scoring.engagement_days', 'int', scoring.engagement_days), t('days')),
      field(t('Stage that counts as converted'), stage),
      field(t('Leads a new source is assumed to have'), input('scoring.prior_leads', 'int', scoring.prior_leads), t('leads'))));
}

function render(values) {
  const known = new Set(['scoring']);
  const parts = sections().map(([title, fields]) => el('fieldset', { class: 'settings-section' }, el('legend', {}, title),
    ...fields.map(([path, label, kind, unit]) => {
      known.add(path.split('.')[0]);
      return field(label, input(path, kind, read(values, path)), unit);
    })));
  if (values.scoring) parts.push(scoringSection(values.scoring));
  const others = Object.keys(values).filter((key) => !known.has(key));
  if (others.length) {
    parts.push(el('fieldset', { class: 'settings-section' }, el('legend', {}, t('Other settings')),
      ...others.map((key) => field(key, input(key, typeof values[key] === 'number' ? 'int' : 'json', values[key])))));
  }
  return parts;
}

function valueOf(control) {
  const kind = control.dataset.kind;
  if (kind === 'int') return Number(control.value);
  if (kind === 'share') return Number(control.value) / 100;
  // rates travel as string decimals ("0.3600")
  if (kind === 'percent') return (Number(control.value) / 100).toFixed(4);
  if (kind === 'json') return JSON.parse(control.value);
  return control.value;
}

// Only top-level keys that changed are sent; a nested object is sent whole.
function changes(form, original) {
  const edited = structuredClone(original);
  for (const control of form.querySelectorAll('[name][data-kind]')) {
    const path = control.name.split('.');
    let target = edited;
    for (const key of path.slice(0, -1)) target = target[key];
    target[path.at(-1)] = valueOf(control);
  }
  const same = (a, b) => JSON.stringify(a) === JSON.stringify(b) || Number(a) === Number(b);
  return Object.fromEntries(Object.entries(edited).filter(([key, value]) => !same(value, original[key])));
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
    holder.replaceChildren(...render(original));
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
