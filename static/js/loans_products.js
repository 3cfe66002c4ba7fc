// Lenders and products: the product list with its ranges, repayment method, all-in APR and ⚠
// flag, switching a product on or off, new lenders, and headquarters offering a product to
// partner orgs. A partner admin sees the HQ products offered to them but cannot change them.
import { api } from './api.js';
import { t } from './i18n.js';
import { attempt, el, fillTable, formatPercent, pageData, showError } from './ui.js';
import { aprText, lenderKindLabels, methodLabels, moneyRange, rateRange, termRange } from './loans_labels.js';
import { openProductForm, productBody } from './loans_product_form.js';

const $ = (selector) => document.querySelector(selector);
const config = pageData('products-page');
const errorBox = $('#page-error');
const state = { lenders: [], products: [], orgs: new Map(), orgsError: null };

const orgName = (id) => (state.orgs.get(id) || {}).name || `#${id}`;
const mayChange = (product) => product.org_id === config.org_id || config.sees_all_orgs;

function renderLenders() {
  const kinds = lenderKindLabels();
  fillTable($('#lenders-table'), state.lenders.map((lender) => el('tr', {},
    el('td', {}, lender.name),
    el('td', {}, kinds[lender.kind] || lender.kind),
    el('td', {}, lender.active ? t('Active') : t('Deactivated')),
  )), 3);
}

function activeSwitch(product) {
  if (!mayChange(product)) return product.active ? t('Active') : t('Switched off');
  return el('label', { class: 'check-row' },
    el('input', {
      type: 'checkbox',
      role: 'switch',
      checked: product.active,
      'aria-label': t('Active'),
      onchange: (event) => setActive(product, event.target.checked),
    }),
    product.active ? t('Active') : t('Switched off'));
}

function actions(product) {
  const buttons = [];
  if (mayChange(product)) {
    buttons.push(el('button', { type: 'button', onclick: () => openProductForm(product, activeLenders(), reload) }, t('Edit')));
  }
  if (config.can_offer && product.org_id === config.org_id) {
    buttons.push(el('button', { type: 'button', onclick: () => openOffers(product) }, t('Offer to partners')));
  }
  return el('div', { class: 'row nowrap' }, ...buttons);
}

function productRow(p) {
  const methods = methodLabels();
  const offered = p.offered_to.length ? p.offered_to.map(orgName).join('、') : '—';
  return el('tr', { dataset: { productId: p.id }, class: p.active ? '' : 'inactive' },
    el('td', {}, p.name),
    el('td', {}, p.lender_name),
    el('td', {}, moneyRange(p.min_amount, p.max_amount)),
    el('td', {}, termRange(p.min_term_months, p.max_term_months)),
    el('td', { class: 'wrap' }, methods[p.repayment_method] || p.repayment_method),
    el('td', {}, rateRange(p.apr_min, p.apr_max)),
    el('td', { 'data-testid': 'product-apr' }, aprText(p.apr_worst, p.apr_flagged)),
    el('td', { class: 'num' }, formatPercent(p.channel_fee_rate)),
    el('td', {}, offered),
    el('td', {}, activeSwitch(p)),
    el('td', {}, actions(p)),
  );
}

const activeLenders = () => state.lenders.filter((lender) => lender.active);

async function setActive(product, active) {
  const done = active ? t('Product switched on') : t('Product switched off');
  await attempt(() => api.put(`products/${product.id}`, { ...productBody(product), active }), errorBox, done);
  reload();
}

function openOffers(product) {
  const dialog = $('#offer-dialog');
  $('#offer-product').textContent = `${product.lender_name} · ${product.name}`;
  const partners = [...state.orgs.values()].filter((org) => org.kind === 'partner');
  $('#offer-orgs').replaceChildren(...partners.map((org) => el('label', { class: 'check-row' },
    el('input', { type: 'checkbox', name: 'org_ids', value: org.id, checked: product.offered_to.includes(org.id) }),
    org.name)));
  if (!partners.length) $('#offer-orgs').append(el('p', { class: 'muted' }, t('No partner orgs to offer to.')));
  $('#offer-error').hidden = true;
  if (state.orgsError) showError(state.orgsError, $('#offer-error'));
  $('#offer-form').onsubmit = async (event) => {
    event.preventDefault();
    const orgIds = [...$('#offer-orgs').querySelectorAll('input:checked')].map((box) => Number(box.value));
    const call = () => api.put(`products/${product.id}/offers`, { org_ids: orgIds });
    if (!(await attempt(call, $('#offer-error'), t('Offers saved')))) return;
    dialog.close();
    reload();
  };
  dialog.showModal();
}

async function addLender(event) {
  event.preventDefault();
  const form = event.target;
  const body = { name: form.elements.name.value.trim(), kind: form.elements.kind.value };
  if (!(await attempt(() => api.post('lenders', body), $('#lender-error'), t('Lender added')))) return;
  form.reset();
  reload();
}

async function loadOrgs() {
  // names for "offered to"; without them the ids show, and the products still list
  const page = await api.get('orgs', { per_page: 200 });
  state.orgs = new Map(page.items.map((org) => [org.id, org]));
}

async function reload() {
  const both = () => Promise.all([api.get('lenders'), api.get('products', { per_page: 200 })]);
  const loaded = await attempt(both, errorBox);
  if (!loaded) return;
  [state.lenders, { items: state.products }] = loaded;
  renderLenders();
  fillTable($('#products-table'), state.products.map(productRow), 11);
}

async function init() {
  $('#lender-form').addEventListener('submit', addLender);
  $('#new-product').addEventListener('click', () => openProductForm(null, activeLenders(), reload));
  $('#offer-dialog [data-close]').addEventListener('click', () => $('#offer-dialog').close());
  // the list shows org ids without the names; the offer dialog says why it has no orgs
  if (config.sees_all_orgs) await loadOrgs().catch((error) => { state.orgsError = error; });
  await reload();
}

init();
