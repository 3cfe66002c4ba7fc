// The agent console: wires the lead card, work lists, call panel and notices to the /dialer
// socket and the keyboard. Every change of a call arrives as an event; buttons only ask, and
// are enabled only when they can act. A console that (re)connects asks the server where its
// agent stands (resume): a reload or a network drop finds the call still up, or waiting for
// its outcome with what was typed for it.
import { api } from './api.js';
import { t } from './i18n.js';
import { el, formatTime, showError, toast } from './ui.js';
import { connectLive } from './socket.js';
import { agentStateLabels, noticeMessage, refusalMessage } from './console_labels.js';
import { loadLead, renderLead, renderTimeline } from './console_lead.js';
import { loadMatches, renderMatchSummary } from './loans_matching.js';
import { WorkLists } from './console_lists.js';
import { CallPanel, DispositionForm } from './console_call.js';
import { showMyDay } from './console_figures.js';
import { showMyMonth } from './commissions_month.js';

const $ = (selector) => document.querySelector(selector);
const config = JSON.parse($('#console-data').textContent);
const me = Number(document.body.dataset.userId);
const NOTICE_POLL_MS = 60000;

const view = {
  lead: null,
  // what the agent chose (available or on break); the live state comes from the server
  agentState: sessionStorage.getItem('agent_state') || 'available',
  connected: false,
  seenNotices: new Set(),
  noticesLoaded: false,
};
const panel = new CallPanel($('#call-panel'));
const form = new DispositionForm($('#disposition-form'), { transitions: config.transitions });
const lists = new WorkLists($('#work-lists'), {
  onOpen: openLead,
  onClaimed: (lead) => openLead(lead.id),
  onAwaiting: (call) => showAwaiting({ ...call, call_id: call.id, state: 'ended', at: call.ended_at }),
});
const live = connectLive(
  '/dialer',
  {
    call_state: onCallState,
    screen_pop: onScreenPop,
    agent_state: ({ state }) => showLiveState(state),
    lead_scored: onLeadScored,
    lead_assigned: ({ lead }) => {
      toast(`${t('New lead for you')}: ${lead.name_masked || ''} ${lead.phone_masked}`, 'info');
      lists.refresh();
    },
    // auto mode: after each outcome the server dials the next lead and says which
    auto_dial: ({ lead }) => showLead(lead),
    notice: (notice) => {
      if (notice.code === 'auto_mode_stopped') $('#auto-mode').checked = false;
      addNotices([{ ...notice, message: noticeMessage(notice), created_at: new Date().toISOString() }], true);
    },
  },
  onLiveStatus,
);

async function openLead(leadId) {
  try {
    const { lead, events, followups } = await loadLead(leadId);
    showLead(lead);
    renderTimeline($('#timeline'), events, followups);
  } catch (err) {
    showError(err);
  }
}

function showLead(lead) {
  view.lead = lead;
  renderLead($('#lead-card'), lead);
  form.forLead(lead);
  lists.updateScore(lead.id, lead.score);
  $('#console-main').dataset.hasLead = 'true';
  if (config.can_match) showMatchSummary(lead.id);
  syncControls();
}

// which products fit the lead on screen; an answer for a lead the agent has left is dropped
async function showMatchSummary(leadId) {
  const box = $('#match-summary');
  try {
    const matches = await loadMatches(leadId);
    if (!view.lead || view.lead.id !== leadId) return;
    renderMatchSummary(box, matches);
    box.hidden = false;
  } catch {
    box.hidden = true;
  }
}

async function onCallState(data) {
  const isNew = panel.update(data);
  if (isNew) {
    form.enable(false);
    $('#screen-pop').hidden = true;
  }
  if (data.state === 'ended') {
    $('#screen-pop').hidden = true; // 已接通 no more
    // the outcome keys and the call's draft are there the moment the panel says it ended, not
    // after its lead has loaded (a reload shows the ended call first); the timeline follows
    form.attach(panel.call);
    form.enable(true);
  }
  syncControls();
  // a call the server started for us (auto mode after wrap-up) brings its lead to the front
  if (isNew && (!view.lead || view.lead.id !== data.lead_id)) await openLead(data.lead_id);
  if (data.state === 'ended') {
    refreshMyDay();
    lists.refreshCounts();
    await openLead(data.lead_id);
  }
}

/** A call that ended without an outcome (from the list, or found on reconnecting). */
async function showAwaiting(payload) {
  if (panel.active) return toast(t('Finish your current call first'), 'error');
  panel.clear();
  await onCallState(payload);
}

function onScreenPop({ lead }) {
  showLead(lead);
  const pop = $('#screen-pop');
  pop.querySelector('[data-pop-who]').textContent = `${lead.name_masked || ''} ${lead.phone_masked}`;
  pop.querySelector('[data-pop-where]').textContent = [lead.city, lead.source].filter(Boolean).join(' · ');
  pop.hidden = panel.call === null || panel.call.state !== 'answered';
}

function onLeadScored({ lead_id: leadId, score }) {
  lists.updateScore(leadId, score);
  if (view.lead && view.lead.id === leadId && view.lead.score !== score) {
    view.lead.score = score;
    const shown = $('#lead-card [data-testid=lead-score]');
    if (shown) shown.textContent = String(score);
  }
}

function onLiveStatus(status) {
  const badge = $('#live-status');
  badge.dataset.status = status;
  badge.textContent = {
    connecting: t('Connecting…'),
    connected: t('Dialer connected'),
    reconnecting: t('Reconnecting…'),
    refused: t('Dialer refused the connection'),
  }[status];
  view.connected = status === 'connected';
  syncControls();
  if (view.connected) resume();
}

/** Where the agent stands, from the server: the call still up, or the calls waiting for an
 * outcome (events sent while the console was away are not replayed). */
async function resume() {
  const answer = await live.call('resume', {});
  if (!answer.ok) return showError(answer);
  $('#auto-mode').checked = answer.auto_mode;
  showLiveState(answer.agent_state);
  const shown = panel.call;
  const ended = shown && answer.awaiting_outcome.find((c) => c.call_id === shown.id);
  if (answer.call) {
    await onCallState(answer.call);
    if (answer.call.state === 'answered' && view.lead) onScreenPop({ lead: view.lead });
  }
  else if (ended && !shown.disposed) await onCallState(ended);
  else if (panel.active) panel.clear(); // it ended and got its outcome elsewhere
  if (!panel.call && answer.awaiting_outcome.length) await showAwaiting(answer.awaiting_outcome[0]);
  // a new console, or one back after the grace period: the server had put the agent offline
  if (answer.agent_state === 'offline') await setAgentState(view.agentState);
  lists.refresh();
  refreshMyDay();
  syncControls();
  await openRequestedLead();
}

/** /console?lead=ID&dial=1 (the lead page's dial button): that lead, dialled once. */
async function openRequestedLead() {
  const query = new URLSearchParams(window.location.search);
  const leadId = Number(query.get('lead'));
  if (!leadId) return;
  window.history.replaceState(null, '', window.location.pathname); // a reload must not redial
  if (!view.lead || view.lead.id !== leadId) await openLead(leadId);
  if (query.get('dial') === '1') await dial();
}

function showLiveState(state) {
  const shown = $('#my-state');
  shown.textContent = agentStateLabels()[state] || state;
  shown.dataset.state = state;
}

async function setAgentState(state) {
  const answer = await live.call('agent_state', { state });
  if (!answer.ok) {
    toast(refusalMessage(answer), 'error');
    return;
  }
  view.agentState = state;
  sessionStorage.setItem('agent_state', state);
  showChosenState();
  showLiveState(state);
}

function showChosenState() {
  for (const button of document.querySelectorAll('[data-agent-state]')) {
    button.setAttribute('aria-pressed', String(button.dataset.agentState === view.agentState));
  }
}

const mayDial = (lead) => lead.pool === 'public' || lead.owner_id === me;

/** Each control is enabled exactly when pressing it can do something. */
function syncControls() {
  const free = !panel.active && !panel.awaitingOutcome;
  $('#dial').disabled = !(view.connected && view.lead && free && mayDial(view.lead));
  $('#hangup').disabled = !(view.connected && panel.active);
  $('#next-lead').disabled = !(view.connected && free);
  $('#save-outcome').disabled = !(view.connected && panel.awaitingOutcome);
  $('#auto-mode').disabled = !view.connected;
  for (const button of document.querySelectorAll('[data-agent-state]')) {
    button.disabled = !view.connected || panel.active;
  }
}

function mustBeFree() {
  if (panel.active) toast(t('Finish your current call first'), 'error');
  else if (panel.awaitingOutcome) toast(t('Record the outcome of the last call first'), 'error');
  else return true;
  return false;
}

async function dial() {
  if (!view.lead) return toast(t('Open a lead first'), 'error');
  if (!mustBeFree()) return;
  // a public lead dialled from preview becomes ours only if the callee answers
  const answer = await live.call('dial', { lead_id: view.lead.id, claim_on_connect: view.lead.pool === 'public' });
  if (!answer.ok) toast(refusalMessage(answer), 'error');
}

async function hangup() {
  if (!panel.active) return;
  const answer = await live.call('hangup', { call_id: panel.call.id });
  if (!answer.ok) toast(refusalMessage(answer), 'error');
}

/** Preview dialing: the best public lead comes to the front; D dials it. */
async function nextLead() {
  if (!mustBeFree()) return;
  const answer = await live.call('next_lead', {});
  if (!answer.ok) return toast(refusalMessage(answer), 'error');
  panel.clear();
  await openLead(answer.lead.id);
}

/** Auto (power) mode: the server dials the best lead now and the next after each outcome. */
async function toggleAutoMode() {
  const box = $('#auto-mode');
  if (box.checked && !mustBeFree()) {
    box.checked = false;
    return;
  }
  const answer = await live.call('auto_mode', { enabled: box.checked });
  if (!answer.ok) {
    box.checked = false;
    return toast(refusalMessage(answer), 'error');
  }
  if (answer.lead) {
    panel.clear();
    showLead(answer.lead);
  }
}

async function saveDisposition(event) {
  event.preventDefault();
  if (!panel.awaitingOutcome) return toast(t('There is no ended call to record'), 'error');
  const { payload, error } = form.values(panel.call.id);
  if (error) return toast(error, 'error');
  const { leadId } = panel.call;
  const answer = await live.call('disposition', payload);
  if (!answer.ok) return toast(refusalMessage(answer), 'error');
  toast(t('Outcome saved'), 'success');
  form.reset();
  showCommission();
  // in auto mode the next call may already be dialing: leave it in front of the agent
  if (panel.call.id === payload.call_id) {
    panel.disposed();
    form.enable(false);
    await openLead(leadId);
  }
  syncControls();
  lists.refresh();
  refreshMyDay();
}

function refreshMyDay() {
  showMyDay($('#my-day'));
}

// the month's commission so far, on load and after each outcome (an application may have led
// to a loan meanwhile)
function showCommission() {
  const box = $('#my-commission');
  if (box) showMyMonth(box, { compact: true });
}

async function loadNotices() {
  try {
    const page = await api.get('notifications', { per_page: 20 });
    // the first load fills the list quietly; later ones announce what arrived meanwhile
    addNotices(page.items.slice().reverse(), view.noticesLoaded);
    view.noticesLoaded = true;
  } catch (err) {
    showError(err);
  }
}

// A notice pushed live is stored too (without its id in the push): the same code, text and
// leads are the same notice when the next poll brings it back.
function noticeKey(n) {
  return JSON.stringify([n.code, n.message, n.lead_ids || (n.data && n.data.lead_ids) || []]);
}

function addNotices(notices, announce) {
  const list = $('#notices');
  for (const n of notices) {
    if (view.seenNotices.has(noticeKey(n))) continue;
    view.seenNotices.add(noticeKey(n));
    if (announce && !n.read_at) toast(n.message, 'warning');
    list.prepend(
      el('li', { class: `notice notice-${n.code}` }, el('time', {}, formatTime(n.created_at)), el('span', {}, n.message)),
    );
  }
  $('#notice-count').textContent = String(list.children.length);
}

// Single keys work anywhere but in a text field; Ctrl+Enter saves from inside the form too.
const KEYS = {
  d: dial,
  h: hangup,
  n: nextLead,
  b: () => setAgentState(view.agentState === 'break' ? 'available' : 'break'),
};

document.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
    saveDisposition(event);
    return;
  }
  const typing = event.target.closest('input[type=text], input:not([type]), textarea, select, input[type=datetime-local]');
  if (typing || event.altKey || event.ctrlKey || event.metaKey) return;
  if (/^[1-9]$/.test(event.key)) {
    // the key picks the outcome and moves to the note: it must not be typed into it as well
    event.preventDefault();
    form.choose(Number(event.key) - 1);
    return;
  }
  const action = KEYS[event.key.toLowerCase()];
  if (action) {
    event.preventDefault();
    action();
  }
});

for (const button of document.querySelectorAll('[data-agent-state]')) {
  button.addEventListener('click', () => setAgentState(button.dataset.agentState));
}
$('#dial').addEventListener('click', dial);
$('#hangup').addEventListener('click', hangup);
$('#next-lead').addEventListener('click', nextLead);
$('#auto-mode').addEventListener('change', toggleAutoMode);
$('#disposition-form').addEventListener('submit', saveDisposition);
$('#screen-pop-close').addEventListener('click', () => {
  $('#screen-pop').hidden = true;
});
form.enable(false);
showChosenState();
syncControls();
lists.show('today');
loadNotices();
showCommission();
setInterval(loadNotices, NOTICE_POLL_MS);
