// Channels and their cost per lead (Admin → Channels): each row's price saved on its own.
import { api } from './api.js';
import { t } from './i18n.js';
import { el, fillTable, formatMoney, pageData, showError, toast } from './ui.js';

function row(source, kinds, orgName, errorBox, refresh) {
  const price = el('input', {
    type: 'number', min: '0', step: '0.01', value: source.cost_per_lead,
    'aria-label': `${t('Cost per lead (CNY)')} ${source.name}`,
  });
  const save = el('button', { type: 'button', class: 'primary' }, t('Save'));
  save.addEventListener('click', async () => {
    errorBox.hidden = true;
    try {
      const saved = await api.patch(`sources/${source.id}`, { cost_per_lead: Number(price.value).toFixed(2) });
      toast(t('%(source)s: %(price)s a lead', { source: saved.name, price: formatMoney(saved.cost_per_lead) }), 'success');
      refresh();
    } catch (error) {
      showError(error, errorBox);
    }
  });
  return el('tr', { dataset: { id: source.id } },
    el('td', {}, source.name), el('td', {}, orgName(source.org_id)), el('td', {}, kinds[source.kind] || source.kind),
    el('td', {}, price), el('td', {}, save));
}

export async function renderSources(orgName, errorBox) {
  const kinds = Object.fromEntries(pageData('source-kinds'));
  const page = await api.get('sources', { per_page: 200 });
  const refresh = () => renderSources(orgName, errorBox).catch((error) => showError(error, errorBox));
  const table = document.getElementById('sources-table');
  table.classList.add('sources-table');
  fillTable(table, page.items.map((source) => row(source, kinds, orgName, errorBox, refresh)), 5);
}
