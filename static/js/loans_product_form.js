// The product dialog: filled from a product, read back as the API's body. Rates are typed as
// percentages and sent as exact decimal fractions; a fee's value is a percentage for the *_rate
// bases and CNY for the fixed ones. Fields say how to read them in data-type (product_form.html).
import { api } from './api.js';
import { attempt } from './ui.js';
import { fractionToPercent, percentToFraction } from './loans_labels.js';

const $ = (selector) => document.querySelector(selector);
const dialog = $('#product-dialog');
const form = $('#product-form');
const RATE_BASES = new Set(['upfront_rate', 'monthly_rate']);
// the fields PUT /products/{id} replaces (ProductFields); lender_id is fixed once created
const PRODUCT_FIELDS = ['name', 'min_amount', 'max_amount', 'min_term_months', 'max_term_months',
  'apr_min', 'apr_max', 'repayment_method', 'channel_fee_rate', 'rules', 'active'];
let editing = null;
let afterSave = () => {};

/** A listed product as the body of PUT /products/{id}, to change one thing (e.g. `active`). */
export function productBody(product) {
  const body = Object.fromEntries(PRODUCT_FIELDS.map((name) => [name, product[name]]));
  body.fees = product.fees.map(({ name, basis, value }) => ({ name, basis, value }));
  return body;
}

const productInputs = () => [...form.elements].filter((input) => input.name && !input.name.startsWith('fee.'));

function storedValue(product, name) {
  return name.startsWith('rules.') ? (product.rules || {})[name.slice(6)] : product[name];
}

function fill(product) {
  for (const input of productInputs()) {
    const value = storedValue(product, input.name);
    const type = input.dataset.type;
    if (type === 'bool') input.checked = input.name === 'active' ? value !== false : Boolean(value);
    else if (type === 'checks') input.checked = (value || []).includes(input.value);
    // a select left unset keeps its first choice: '' would select nothing
    else if (value === null || value === undefined) input.value = input.tagName === 'SELECT' ? input.options[0]?.value ?? '' : '';
    else if (type === 'percent') input.value = fractionToPercent(value);
    else if (type === 'list') input.value = value.join(', ');
    else input.value = String(value);
  }
  $('#fee-rows').replaceChildren();
  for (const fee of product.fees || []) addFeeRow(fee);
}

function addFeeRow(fee = {}) {
  const row = $('#fee-row').content.firstElementChild.cloneNode(true);
  const basis = fee.basis || 'upfront_rate';
  row.querySelector('[name="fee.name"]').value = fee.name || '';
  row.querySelector('[name="fee.basis"]').value = basis;
  const value = fee.value === undefined ? '' : fee.value;
  row.querySelector('[name="fee.value"]').value = RATE_BASES.has(basis) && value !== '' ? fractionToPercent(value) : value;
  row.querySelector('[data-remove-fee]').addEventListener('click', () => row.remove());
  $('#fee-rows').append(row);
}

// undefined: left empty, so not sent (the API's default: no constraint)
function readInput(input) {
  const type = input.dataset.type;
  if (type === 'bool') return input.checked;
  const raw = input.value.trim();
  if (raw === '') return undefined;
  if (type === 'int') return Number(raw);
  // what is not a number goes as typed, and the API says which field is wrong
  if (type === 'percent') return percentToFraction(raw) ?? raw;
  if (type === 'list') return raw.split(/[,，、]/).map((item) => item.trim()).filter(Boolean);
  return raw;
}

function readFees() {
  return [...$('#fee-rows').children].map((row) => {
    const basis = row.querySelector('[name="fee.basis"]').value;
    const value = row.querySelector('[name="fee.value"]').value.trim();
    return {
      name: row.querySelector('[name="fee.name"]').value.trim(),
      basis,
      value: RATE_BASES.has(basis) ? percentToFraction(value) ?? value : value,
    };
  });
}

function read() {
  const body = { rules: {}, fees: readFees() };
  for (const input of productInputs()) {
    const inRules = input.name.startsWith('rules.');
    const [target, key] = inRules ? [body.rules, input.name.slice(6)] : [body, input.name];
    if (input.dataset.type === 'checks') {
      // none ticked: the key stays out, which accepts everyone
      if (input.checked) (target[key] ||= []).push(input.value);
      continue;
    }
    const value = readInput(input);
    if (value !== undefined) target[key] = value;
  }
  return body;
}

async function save(event) {
  event.preventDefault();
  const body = read();
  if (editing) delete body.lender_id;
  const call = () => (editing ? api.put(`products/${editing}`, body) : api.post('products', body));
  if (!(await attempt(call, $('#product-error'), $('#product-title').dataset.saved))) return;
  dialog.close();
  afterSave();
}

/** Opens the dialog for a new product (product null) or to edit one; `onSaved` reloads. */
export function openProductForm(product, lenders, onSaved) {
  editing = product ? product.id : null;
  afterSave = onSaved;
  const title = $('#product-title');
  title.textContent = product ? title.dataset.edit : title.dataset.new;
  const lender = form.elements.lender_id;
  lender.replaceChildren(...lenders.map((l) => new Option(l.name, l.id)));
  lender.disabled = Boolean(product);
  fill(product || { active: true, fees: [] });
  $('#product-error').hidden = true;
  dialog.showModal();
}

form.addEventListener('submit', save);
$('#add-fee').addEventListener('click', () => addFeeRow());
dialog.querySelector('[data-close]').addEventListener('click', () => dialog.close());
