// The lead in front of the agent: masked identity, qualifications, score and its factors, and
// the timeline (follow-up texts joined onto their events, so "what was said" is on one screen).
import { api } from './api.js';
import { t } from './i18n.js';
import { el, formatMoney, formatTime } from './ui.js';
import { dispositionLabels, leadFieldLabels, qualificationRows, scoreFactorLabels, stageLabels } from './console_labels.js';
import { applicationStatusLabels } from './loans_labels.js';

export async function loadLead(leadId) {
  const [lead, events, followups] = await Promise.all([
    api.get(`leads/${leadId}`),
    api.get(`leads/${leadId}/timeline`, { per_page: 50 }),
    api.get(`leads/${leadId}/followups`, { per_page: 50 }),
  ]);
  return { lead, events: events.items, followups: followups.items };
}

export function renderLead(card, lead) {
  const stages = stageLabels();
  const field = (label, value, attrs = {}) =>
    el('div', { class: 'lead-field' }, el('dt', {}, label), el('dd', attrs, value ?? '—'));
  const wanted = lead.amount_wanted
    ? `${formatMoney(lead.amount_wanted)}${lead.term_months ? ` / ${lead.term_months}${t('months')}` : ''}`
    : null;
  card.replaceChildren(
    el(
      'header',
      { class: 'lead-head' },
      el('h2', { class: 'lead-name', 'data-testid': 'lead-name' }, lead.name_masked || t('Unnamed')),
      el('span', { class: 'lead-phone', 'data-testid': 'lead-phone' }, lead.phone_masked),
      el('span', { class: `badge stage-${lead.stage}` }, stages[lead.stage] || lead.stage),
      el(
        'span',
        { class: lead.pool === 'public' ? 'badge pool-public' : 'badge pool-private' },
        lead.pool === 'public' ? t('Public pool') : t('My lead'),
      ),
    ),
    el(
      'dl',
      { class: 'lead-fields' },
      field(t('City'), [lead.province, lead.city].filter(Boolean).join(' ') || null),
      field(t('Carrier'), lead.carrier),
      field(t('Source'), lead.source),
      field(t('Wants'), wanted),
      field(t('Purpose'), lead.purpose),
      field(t('Next follow-up'), lead.next_followup_at ? formatTime(lead.next_followup_at) : null),
    ),
    scoreBlock(lead),
    el(
      'dl',
      { class: 'lead-fields qualifications' },
      ...qualificationRows(lead.qualifications || {}).map(([label, value]) => field(label, value)),
    ),
  );
}

function scoreBlock(lead) {
  const factors = breakdownRows(lead.score_breakdown);
  return el(
    'div',
    { class: 'score' },
    el('span', { class: 'score-value', 'data-testid': 'lead-score' }, String(lead.score)),
    el('span', { class: 'score-label' }, t('Score')),
    factors.length
      ? el(
          'ul',
          { class: 'score-factors' },
          ...factors.map(([name, points]) =>
            el(
              'li',
              {},
              el('span', {}, name),
              el('b', { class: points < 0 ? 'neg' : 'pos' }, `${points > 0 ? '+' : ''}${points}`),
            ),
          ),
        )
      : null,
  );
}

// The breakdown comes as a list of {factor|label, points} or as {factor: points}; either way
// the agent sees each factor's contribution, biggest first.
function breakdownRows(breakdown) {
  if (!breakdown) return [];
  // by the factor's code in the page's language; the stored label is Chinese
  const labels = scoreFactorLabels();
  const rows = Array.isArray(breakdown)
    ? breakdown.map((f) => [labels[f.factor] || f.label || f.factor || f.name, Number(f.points ?? f.score ?? f.value)])
    : Object.entries(breakdown).map(([name, points]) => [labels[name] || name, Number(points)]);
  return rows.filter(([, p]) => !Number.isNaN(p)).sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]));
}

export function renderTimeline(list, events, followups) {
  const byId = new Map(followups.map((f) => [f.id, f]));
  list.replaceChildren(
    ...events.map((event) =>
      el(
        'li',
        { class: `event event-${event.kind}` },
        el('time', {}, formatTime(event.at)),
        el('span', { class: 'event-kind' }, eventTitle(event), event.actor_name ? el('small', { class: 'event-actor' }, ` · ${event.actor_name}`) : null),
        el('span', { class: 'event-detail' }, eventDetail(event, byId)),
      ),
    ),
  );
}

function eventTitle(event) {
  const titles = {
    created: t('Lead created'),
    claimed: t('Claimed'),
    released: t('Released'),
    recycled: t('Recycled to the public pool'),
    assigned: t('Assigned'),
    call: t('Call'),
    followup: t('Follow-up'),
    stage: t('Stage changed'),
    reveal: t('Personal data revealed'),
    updated: t('Edited'),
    application: t('Application'),
  };
  return titles[event.kind] || event.kind;
}

function eventDetail(event, followupsById) {
  const d = event.data || {};
  const stages = stageLabels();
  if (event.kind === 'call') {
    return d.answered ? `${t('Answered')} · ${d.duration_s ?? 0}s` : t('Not answered');
  }
  if (event.kind === 'followup') {
    const f = followupsById.get(d.followup_id);
    const parts = [dispositionLabels()[d.result] || d.result, f && f.content];
    if (f && f.next_followup_at) parts.push(`${t('Next follow-up')} ${formatTime(f.next_followup_at)}`);
    return parts.filter(Boolean).join(' · ');
  }
  if (event.kind === 'stage' || event.kind === 'application') {
    const labels = event.kind === 'stage' ? stages : applicationStatusLabels();
    const move = [d.from && (labels[d.from] || d.from), labels[d.to] || d.to].filter(Boolean).join(' → ');
    return d.reason ? `${move} (${d.reason})` : move;
  }
  if (event.kind === 'created') return d.source || '';
  if (event.kind === 'updated') {
    const fields = leadFieldLabels();
    return `${t('Changed')}: ${(d.fields || []).map((f) => fields[f] || f).join(t(', '))}`;
  }
  return '';
}
