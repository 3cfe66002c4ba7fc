// The lead list: filters kept in the URL, sortable columns, paging, and managers' bulk actions.
import { api } from './api.js';
import { errorMessage, t } from './i18n.js';
import { el, formatTime, pageData, showError, toast, watchJob } from './ui.js';
import { stageLabels } from './console_labels.js';

const $ = (selector) => document.querySelector(selector);
const config = pageData('leads-page');
const filters = $('#lead-filters');
const tbody = $('#lead-table tbody');
const FILTER_NAMES = ['q', 'pool', 'stage', 'source', 'city', 'owner_id', 'min_score', 'sort'];
const DEFAULTS = { pool: 'all', sort: '-created_at' };
// roles that work leads, so a manager is offered only people who can own one
const OWNER_ROLES = new Set(['agent', 'team_lead', 'partner_agent']);
const PER_PAGE = 50;
const owners = new Map();
const selected = new Set();
let page = 1;

function currentFilters() {
  const values = {};
  for (const name of FILTER_NAMES) {
    const value = filters.elements[name].value.trim();
    if (value && value !== DEFAULTS[name]) values[name] = value;
  }
  return values;
}

function fillFromUrl() {
  const params = new URLSearchParams(window.location.search);
  for (const name of FILTER_NAMES) {
    if (params.has(name)) filters.elements[name].value = params.get(name);
  }
  page = Number(params.get('page') || 1);
}

function ownerName(ownerId) {
  if (ownerId === null) return t('Public pool');
  if (ownerId === config.user_id) return t('Me');
  return owners.get(ownerId) || `#${ownerId}`;
}

function row(lead) {
  const stages = stageLabels();
  const check = config.can_assign
    ? el('td', {}, el('input', {
        type: 'checkbox',
        'aria-label': t('Select'),
        checked: selected.has(lead.id),
        onchange: (event) => toggle(lead.id, event.target.checked),
      }))
    : null;
  return el('tr', { dataset: { leadId: lead.id } },
    check,
    el('td', {}, el('a', { href: `/leads/${lead.id}` }, lead.name_masked || t('Unnamed'))),
    el('td', { class: 'phone', 'data-testid': 'lead-phone' }, lead.phone_masked),
    el('td', {}, lead.city || ''),
    el('td', {}, lead.source),
    el('td', {}, stages[lead.stage] || lead.stage),
    el('td', { class: 'num score' }, String(lead.score)),
    el('td', {}, el('span', { class: lead.pool === 'public' ? 'badge public' : 'badge' }, ownerName(lead.owner_id))),
    el('td', {}, formatTime(lead.created_at)),
    el('td', {}, formatTime(lead.last_followup_at)),
  );
}

function toggle(leadId, on) {
  if (on) selected.add(leadId);
  else selected.delete(leadId);
  showSelection();
}

function showSelection() {
  const count = $('#selected-count');
  if (count) count.textContent = t('%(count)s selected', { count: selected.size });
}

async function load() {
  const params = { ...currentFilters(), page, per_page: PER_PAGE };
  const query = new URLSearchParams(page > 1 ? { ...currentFilters(), page } : currentFilters()).toString();
  history.replaceState(null, '', query ? `?${query}` : window.location.pathname);
  $('#list-error').hidden = true;
  let result;
  tbody.ariaBusy = 'true';
  try {
    result = await api.get('leads', params);
  } catch (error) {
    tbody.replaceChildren();
    showError(error, $('#list-error'));
    return;
  } finally {
    tbody.ariaBusy = null;
  }
  tbody.replaceChildren(...result.items.map(row));
  showSort();
  if (!result.items.length) {
    tbody.append(el('tr', {}, el('td', { colspan: 10, class: 'empty' }, t('No leads match these filters.'))));
  }
  const pages = Math.max(1, Math.ceil(result.total / PER_PAGE));
  $('#total').textContent = result.total_capped
    ? t('%(count)s+ leads', { count: result.total })
    : t('%(count)s leads', { count: result.total });
  $('#page-number').textContent = t('Page %(page)s of %(pages)s', { page, pages });
  $('#prev-page').disabled = page <= 1;
  $('#next-page').disabled = page >= pages;
  exportLinks();
}

// Full numbers in an export need a stated purpose (audited, credit-reporting rules art. 33);
// without one the file is masked.
function exportLinks() {
  const purpose = ($('#export-purpose') || { value: '' }).value.trim();
  for (const format of ['csv', 'xlsx']) {
    const link = $(`#export-${format}`);
    if (link) link.href = api.url('leads/export', { ...currentFilters(), format, ...(purpose ? { purpose } : {}) });
  }
}

// Owners by name: a manager reads every user; a team lead the agents they may assign to (their
// team's), which is also whom the owner filter offers them.
async function loadOwners() {
  const people = config.can_list_users
    ? (await api.get('users', { per_page: 200 })).items
    : config.can_assign ? await api.get('leads/assignees') : [];
  const ownerFilter = filters.elements.owner_id;
  for (const user of people) {
    owners.set(user.id, user.display_name);
    ownerFilter.append(el('option', { value: user.id }, user.display_name));
  }
  const assignTo = $('#assign-to');
  if (assignTo) {
    const assignees = config.can_list_users
      ? people.filter((user) => user.active && OWNER_ROLES.has(user.role))
      : people;
    assignTo.replaceChildren(...assignees.map((user) => el('option', { value: user.id }, user.display_name)));
  }
  if (new URLSearchParams(window.location.search).has('owner_id')) fillFromUrl();
}

async function assignSelected() {
  if (!selected.size) return toast(t('Select leads first'), 'error');
  if (!$('#assign-to').value) return toast(t('Choose whom to assign the leads to'), 'error');
  $('#assign-result').hidden = true;
  try {
    const result = await api.post('leads/assign', {
      lead_ids: [...selected],
      to_user_id: Number($('#assign-to').value),
    });
    toast(t('%(assigned)s assigned, %(skipped)s skipped', {
      assigned: result.assigned.length, skipped: result.skipped.length,
    }), result.skipped.length ? 'warning' : 'success');
    showSkipped(result.skipped);
    selected.clear();
    showSelection();
    load();
  } catch (error) {
    showError(error);
  }
}

// each lead that did not go, with the reason in the page's language
function showSkipped(skipped) {
  const box = $('#assign-result');
  box.replaceChildren(...skipped.map((s) => el('li', { 'data-lead-id': String(s.lead_id) },
    `#${s.lead_id}: ${errorMessage(s.code) || s.message}`)));
  box.hidden = !skipped.length;
}

async function releaseSelected() {
  if (!selected.size) return toast(t('Select leads first'), 'error');
  const failures = [];
  for (const leadId of selected) {
    try {
      await api.post(`leads/${leadId}/release`, { reason: t('Released from the lead list') });
    } catch (error) {
      failures.push(`#${leadId}: ${error.message}`);
    }
  }
  toast(failures.length ? failures.join('; ') : t('Released to the public pool'), failures.length ? 'error' : 'success');
  selected.clear();
  showSelection();
  load();
}

async function importSheet(event) {
  event.preventDefault();
  const form = event.target;
  try {
    const { job_id: jobId } = await api.upload('leads/import', new FormData(form));
    const job = await watchJob(jobId, $('#import-progress'));
    const r = job.result || {};
    toast(t('Imported %(created)s, %(duplicates)s duplicates, %(invalid)s invalid', {
      created: r.created ?? 0, duplicates: r.duplicates ?? 0, invalid: (r.invalid || []).length,
    }), 'success');
    load();
  } catch (error) {
    showError(error);
  }
}

function showSort() {
  const sort = filters.elements.sort.value;
  for (const button of document.querySelectorAll('button.sort')) {
    const key = button.dataset.sort;
    const state = { [key]: 'ascending', [`-${key}`]: 'descending' }[sort];
    if (state) button.closest('th').setAttribute('aria-sort', state);
    else button.closest('th').removeAttribute('aria-sort');
  }
}

function sortBy(key) {
  const sort = filters.elements.sort;
  sort.value = sort.value === `-${key}` ? key : `-${key}`;
  page = 1;
  load();
}

function init() {
  const stages = stageLabels();
  const stageSelect = filters.elements.stage;
  for (const stage of stageSelect.dataset.stages.split(',')) {
    stageSelect.append(el('option', { value: stage }, stages[stage] || stage));
  }
  fillFromUrl();
  filters.addEventListener('submit', (event) => { event.preventDefault(); page = 1; load(); });
  if ($('#export-purpose')) $('#export-purpose').addEventListener('input', exportLinks);
  filters.addEventListener('reset', () => setTimeout(() => { page = 1; load(); }));
  for (const button of document.querySelectorAll('button.sort')) {
    button.addEventListener('click', () => sortBy(button.dataset.sort));
  }
  $('#prev-page').addEventListener('click', () => { page -= 1; load(); });
  $('#next-page').addEventListener('click', () => { page += 1; load(); });
  if (config.can_assign) {
    $('#select-all').addEventListener('change', (event) => {
      for (const box of tbody.querySelectorAll('input[type=checkbox]')) {
        box.checked = event.target.checked;
        toggle(Number(box.closest('tr').dataset.leadId), event.target.checked);
      }
    });
    $('#assign-selected').addEventListener('click', assignSelected);
    $('#release-selected').addEventListener('click', releaseSelected);
    showSelection();
  }
  const importForm = $('#import-form');
  if (importForm) importForm.addEventListener('submit', importSheet);
  loadOwners().catch(showError).finally(load);
}

init();
