// The agent's own day in the console's bar: calls, connected calls and talk time today against
// the org's daily targets (GET /reports/my-day, counted as the agents report counts them).
import { api } from './api.js';
import { t } from './i18n.js';
import { el } from './ui.js';

function meter(name, label, value, target, text) {
  const share = target ? Math.min(100, Math.round((100 * value) / target)) : 0;
  return el(
    'span',
    { class: 'meter', 'data-figure': name, title: `${label}: ${text} / ${target}` },
    el('span', { class: 'meter-label' }, label),
    el('b', { 'data-testid': `my-${name}` }, text),
    el('small', {}, `/${target}`),
    el('i', { class: 'meter-bar' }, el('i', { style: `width:${share}%` })),
  );
}

export async function showMyDay(box) {
  let day;
  try {
    day = await api.get('reports/my-day');
  } catch {
    box.hidden = true;
    return;
  }
  const minutes = Math.floor(day.talk_seconds / 60);
  box.replaceChildren(
    el('span', { class: 'my-day-title' }, t('Today')),
    meter('calls', t('Calls'), day.calls, day.targets.calls, String(day.calls)),
    meter('connected', t('Connected'), day.connected, day.targets.connected, String(day.connected)),
    meter('talk', t('Talk time'), minutes, day.targets.talk_minutes, `${minutes}${t('min')}`),
  );
  box.dataset.talkSeconds = String(day.talk_seconds);
  box.hidden = false;
}
