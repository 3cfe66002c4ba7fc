// Words the console shows for the dialer's codes. Functions, not constants: the catalogue is
// read when the page starts, and each msgid stays a literal t('...') for pybabel extract.
import { errorMessage, t } from './i18n.js';
import { formatMoney } from './ui.js';

export function dispositionLabels() {
  return {
    no_answer: t('No answer'),
    busy: t('Busy'),
    invalid_number: t('Invalid number'),
    not_interested: t('Not interested'),
    callback: t('Call back'),
    interested: t('Interested'),
    applied: t('Applied'),
    do_not_call: t('Do not call'),
  };
}

export function stageLabels() {
  return {
    new: t('New'),
    contacted: t('Contacted'),
    qualified: t('Qualified'),
    applied: t('Applied'),
    approved: t('Approved'),
    disbursed: t('Disbursed'),
    lost: t('Lost'),
    rejected: t('Rejected'),
  };
}

/** Score factors (crm/scoring/rules.py) by code: the chips on a lead card. */
export function scoreFactorLabels() {
  return {
    phone: t('Mobile number'),
    region: t('Number from a city we serve'),
    completeness: t('Record filled in'),
    qualifications: t('Qualifications'),
    income: t('Amount against income'),
    age: t('Age band'),
    source: t('Source conversion'),
    engagement: t('Recent contact'),
    duplicates: t('Number held by no other org'),
  };
}

/** Lead fields as an edit on the timeline names them. */
export function leadFieldLabels() {
  return {
    name: t('Name'),
    phone: t('Phone'),
    id_number: t('ID number'),
    city: t('City'),
    source: t('Source'),
    amount_wanted: t('Amount wanted'),
    term_months: t('Term (months)'),
    purpose: t('Purpose'),
    remark: t('Remark'),
    qualifications: t('Qualifications'),
    consent: t('Consent'),
  };
}

export function agentStateLabels() {
  return {
    available: t('Available'),
    break: t('On break'),
    dialing: t('Dialing'),
    on_call: t('On a call'),
    wrap_up: t('Wrap-up'),
    offline: t('Offline'),
  };
}

export function callStateLabels() {
  return {
    idle: t('No call'),
    dialing: t('Dialing'),
    ringing: t('Ringing'),
    answered: t('Answered'),
    ended: t('Ended'),
  };
}

/** Why the dialer refused a dial, in the agent's words; the server's text as a fallback. */
export function refusalMessage(answer) {
  const known = {
    dnc: t('This number is on the do-not-call list'),
    outside_calling_hours: t('Outside calling hours'),
    frequency_cap: t('This lead was called too often today'),
    not_owner: t('Claim the lead before calling it'),
    no_caller_id: t('No caller ID is free, ask your manager'),
    no_caller_id_configured: t('No outbound number is set up for your org, ask your admin'),
    busy: t('Finish your current call first'),
    lead_in_call: t('Another agent is calling this lead'),
    pool_empty: t('No lead is waiting in the public pool'),
    timeout: t('The dialer did not answer, check your connection'),
  };
  return known[answer.code] || errorMessage(answer.code) || answer.message || answer.code;
}

/** A live notice in the agent's words: auto mode's stop reasons are codes, the rest is text. */
export function noticeMessage(notice) {
  if (notice.code !== 'auto_mode_stopped') return notice.message;
  const why = {
    off: t('Auto mode is off'),
    break: t('Auto mode stopped: you are on break'),
    offline: t('Auto mode stopped: you went offline'),
  }[notice.reason];
  return why || `${t('Auto mode stopped')}: ${refusalMessage({ code: notice.reason, message: notice.message })}`;
}

export function qualificationRows(q) {
  const yesNo = (v) => (v === true ? t('Yes') : v === false ? t('No') : null);
  const asset = { none: t('None'), owned: t('Owned'), mortgaged: t('Mortgaged') };
  const employment = {
    salaried: t('Salaried'),
    self_employed: t('Self-employed'),
    business_owner: t('Business owner'),
    other: t('Other'),
  };
  const credit = {
    good: t('Good'),
    minor_overdue: t('Minor overdue'),
    serious_overdue: t('Serious overdue'),
    no_record: t('No record'),
  };
  return [
    [t('Monthly income'), q.monthly_income == null ? null : formatMoney(q.monthly_income)],
    [t('Employment'), employment[q.employment]],
    [t('Social security'), yesNo(q.social_security)],
    [t('Provident fund'), yesNo(q.provident_fund)],
    [t('House'), asset[q.house]],
    [t('Car'), asset[q.car]],
    [t('Insurance policy'), yesNo(q.insurance_policy)],
    [t('Business licence'), yesNo(q.business_licence)],
    [t('Credit report'), credit[q.credit_status]],
  ].filter(([, value]) => value !== null && value !== undefined);
}
