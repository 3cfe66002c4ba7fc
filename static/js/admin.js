// Admin pages: one table per section filled from the API, a generic create form, user edits,
// and the audit log viewer. The API scopes a partner admin to their own org.
import { api } from './api.js';
import { t } from './i18n.js';
import { el, formatTime, pageData, showError, toast } from './ui.js';
import { initSettings } from './admin_settings.js';
import { renderSources } from './admin_sources.js';

const $ = (selector) => document.querySelector(selector);
const config = pageData('admin-page');
const errorBox = $('#admin-error');
// the user's own org is known from the page, so it has a name even if the org list fails
const lookups = {
  orgs: new Map([[config.org_id, { id: config.org_id, name: config.org_name }]]),
  teams: new Map(),
  users: new Map(),
};

// role names in the user's language, from crm/web/admin.py
const roleLabels = () => config.role_labels;

async function loadLookup(kind, path) {
  const page = await api.get(path, { per_page: 200 });
  lookups[kind] = new Map(page.items.map((item) => [item.id, item]));
  return page.items;
}

const nameOf = (kind, id) => (id == null ? '—' : (lookups[kind].get(id) || {}).display_name || (lookups[kind].get(id) || {}).name || `#${id}`);

function fillOptions() {
  const roles = roleLabels();
  for (const select of document.querySelectorAll('select[data-options]')) {
    const kind = select.dataset.options;
    const items = kind === 'roles'
      ? pageData('grantable-roles').map((role) => ({ id: role, name: roles[role] || role }))
      : [...lookups[kind].values()];
    for (const item of items) select.append(el('option', { value: item.id }, item.name));
    if (kind === 'orgs') select.value = String(config.org_id);
  }
}

function formBody(form) {
  const body = {};
  for (const input of form.elements) {
    if (!input.name) continue;
    const raw = input.value.trim();
    if (raw === '') continue;
    if (input.dataset.type === 'int') body[input.name] = Number(raw);
    else if (input.dataset.type === 'list') body[input.name] = raw.split(/[,，]/).map((s) => s.trim()).filter(Boolean);
    else body[input.name] = raw;
  }
  return body;
}

function rows(table, items, cells) {
  const tbody = table.querySelector('tbody');
  tbody.replaceChildren(...items.map((item) => el('tr', { dataset: { id: item.id } }, ...cells(item).map((cell) => el('td', {}, cell)))));
  if (!items.length) tbody.append(el('tr', {}, el('td', { colspan: 8, class: 'empty' }, t('Nothing here yet.'))));
}

async function patchUser(userId, change) {
  try {
    await api.patch(`users/${userId}`, change);
    toast(t('User updated'), 'success');
  } catch (error) {
    showError(error);
  }
  renderUsers();
}

function userRow(user) {
  const roles = roleLabels();
  const grantable = pageData('grantable-roles');
  const roleSelect = el('select', { 'aria-label': t('Role'), disabled: !grantable.includes(user.role) || user.id === config.user_id,
    onchange: (event) => patchUser(user.id, { role: event.target.value }) },
  ...[...new Set([user.role, ...grantable])].map((role) => el('option', { value: role, selected: role === user.role }, roles[role] || role)));
  const teams = [...lookups.teams.values()].filter((team) => team.org_id === user.org_id);
  const teamSelect = el('select', { 'aria-label': t('Team'), onchange: (event) => patchUser(user.id, { team_id: event.target.value ? Number(event.target.value) : null }) },
    el('option', { value: '' }, '—'),
    ...teams.map((team) => el('option', { value: team.id, selected: team.id === user.team_id }, team.name)));
  const toggle = user.id === config.user_id ? '' : el('button', { type: 'button', class: user.active ? 'danger' : '',
    onclick: () => patchUser(user.id, { active: !user.active }) }, user.active ? t('Deactivate') : t('Activate'));
  return [user.username, user.display_name, nameOf('orgs', user.org_id), roleSelect, teamSelect,
    formatTime(user.last_login_at), user.active ? t('Active') : t('Deactivated'), toggle];
}

async function renderUsers() {
  const users = await loadLookup('users', 'users');
  rows($('#users-table'), users, userRow);
}

const renderers = {
  users: renderUsers,
  teams: async () => {
    await loadLookup('users', 'users');
    rows($('#teams-table'), await loadLookup('teams', 'teams'), (team) => [
      team.name, nameOf('orgs', team.org_id), nameOf('users', team.lead_user_id), formatTime(team.created_at)]);
  },
  orgs: async () => {
    rows($('#orgs-table'), await loadLookup('orgs', 'orgs'), (org) => [
      org.name, org.kind === 'hq' ? t('Headquarters') : t('Partner'), org.cities.join('、'), formatTime(org.created_at)]);
  },
  'caller-ids': async () => {
    const page = await api.get('caller-ids', { per_page: 200 });
    rows($('#caller-ids-table'), page.items, (c) => [c.number, String(c.daily_cap), c.active ? t('Active') : t('Deactivated')]);
  },
  dnc: async () => {
    const page = await api.get('dnc', { per_page: 200 });
    rows($('#dnc-table'), page.items, (d) => [el('span', { class: 'phone' }, d.phone_masked), d.reason, d.source, formatTime(d.created_at)]);
  },
  audit: renderAudit,
  // rendered on the server: the chains are checked where the data is
  'audit-chain': async () => {},
  roles: async () => {},
  settings: () => initSettings($('#settings-org'), errorBox),
  sources: () => renderSources((id) => nameOf('orgs', id), errorBox),
};

let auditPage = 1;

async function renderAudit() {
  const form = $('#audit-filters');
  const params = { page: auditPage, per_page: 50 };
  for (const name of ['lead_id', 'user_id', 'action']) params[name] = form.elements[name].value.trim();
  // a date means the whole day in Beijing time
  if (form.elements.from.value) params.from = `${form.elements.from.value}T00:00:00+08:00`;
  if (form.elements.to.value) params.to = `${form.elements.to.value}T23:59:59+08:00`;
  const page = await api.get('audit', params);
  const { actions, fields } = config.audit_labels; // in the user's language, codes as a fallback
  rows($('#audit-table'), page.items, (entry) => [
    formatTime(entry.at, { seconds: true }), nameOf('users', entry.user_id),
    el('span', { title: entry.action }, actions[entry.action] || entry.action),
    entry.lead_id ? el('a', { href: `/leads/${entry.lead_id}` }, `#${entry.lead_id}`) : '—',
    entry.fields.map((f) => fields[f] || f).join(t(', ')), entry.purpose || '', entry.method || '', entry.ip || '']);
  const pages = Math.max(1, Math.ceil(page.total / page.per_page));
  $('#total').textContent = t('%(count)s entries', { count: page.total });
  $('#page-number').textContent = t('Page %(page)s of %(pages)s', { page: auditPage, pages });
  $('#prev-page').disabled = auditPage <= 1;
  $('#next-page').disabled = auditPage >= pages;
}

function wireAudit() {
  const form = $('#audit-filters');
  const go = (delta) => { auditPage = delta === 0 ? 1 : auditPage + delta; renderAudit().catch((e) => showError(e, errorBox)); };
  form.addEventListener('submit', (event) => { event.preventDefault(); go(0); });
  $('#prev-page').addEventListener('click', () => go(-1));
  $('#next-page').addEventListener('click', () => go(1));
}

function wireCreateForm(render) {
  const form = $('#create-form');
  if (!form) return;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    errorBox.hidden = true;
    try {
      await api.post(form.dataset.endpoint, formBody(form));
      form.reset();
      toast(t('Saved'), 'success');
      await render();
    } catch (error) {
      showError(error, errorBox);
    }
  });
}

async function init() {
  const section = config.section;
  // names for ids and choices for selects; a lookup that fails is reported and its ids show
  // as #id, the section itself still loads
  const needed = {
    users: [['orgs', 'orgs'], ['teams', 'teams']],
    teams: [['orgs', 'orgs'], ['teams', 'teams']],
    settings: [['orgs', 'orgs']],
    sources: [['orgs', 'orgs']],
    audit: [['users', 'users']],
  }[section] || [];
  const failures = (await Promise.allSettled(needed.map(([kind, path]) => loadLookup(kind, path))))
    .filter((outcome) => outcome.status === 'rejected');
  if (failures.length) showError(failures[0].reason, errorBox);
  fillOptions();
  if (section === 'audit') wireAudit();
  wireCreateForm(renderers[section]);
  await renderers[section]();
}

init().catch((error) => showError(error, errorBox));
