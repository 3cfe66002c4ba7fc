// Small DOM helpers shared by every page: element builder, toasts, formatting, job progress.
import { api } from './api.js';
import { currentLang, t } from './i18n.js';

// el('a', {href: '/x', class: 'btn', dataset: {id: 3}, onclick: fn}, 'text', child)
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else if (value === true) node.setAttribute(key, '');
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

export function toast(message, kind = 'info') {
  const box = document.getElementById('toasts') || document.body;
  const item = el('div', { class: `toast ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, message);
  box.append(item);
  setTimeout(() => item.remove(), kind === 'error' ? 8000 : 4000);
}

const TIMEZONE = 'Asia/Shanghai';

export function formatTime(value, { date = true, seconds = false } = {}) {
  if (!value) return '';
  const options = { timeZone: TIMEZONE, hour: '2-digit', minute: '2-digit', hour12: false };
  if (date) Object.assign(options, { year: 'numeric', month: '2-digit', day: '2-digit' });
  if (seconds) options.second = '2-digit';
  return new Intl.DateTimeFormat(currentLang(), options).format(new Date(value));
}

export function formatMoney(value) {
  if (value === null || value === undefined || value === '') return '';
  return new Intl.NumberFormat(currentLang(), { style: 'currency', currency: 'CNY' }).format(Number(value));
}

// The API's messages are English; the common refusals get the page's language.
function errorText(error) {
  const known = {
    not_found: t('Not found, or not visible to your org.'),
    forbidden: t('You do not have permission for this.'),
    csrf_failed: t('The page is out of date; reload it and try again.'),
    validation_error: t('Some fields are missing or invalid.'),
    internal_error: t('Something went wrong.'),
  };
  return known[error.code] || error.message || t('Something went wrong.');
}

// Shows an API error next to the form that caused it, or as a toast.
export function showError(error, target) {
  const message = errorText(error);
  if (target) {
    target.textContent = message;
    target.hidden = false;
  } else {
    toast(message, 'error');
  }
}

// Polls GET /api/v1/jobs/{id} into a progress bar until the job ends; resolves with the job.
export function watchJob(jobId, element, { interval = 700 } = {}) {
  const bar = el('progress', { max: '1', value: '0' });
  const label = el('span', { class: 'job-status' }, t('Queued'));
  element.replaceChildren(bar, label);
  const labels = { queued: t('Queued'), started: t('Running'), finished: t('Done'), failed: t('Failed') };
  return new Promise((resolve, reject) => {
    const poll = async () => {
      let job;
      try {
        job = await api.get(`jobs/${jobId}`);
      } catch (error) {
        reject(error);
        return;
      }
      bar.value = job.status === 'finished' ? 1 : job.progress;
      label.textContent = `${labels[job.status]} ${Math.round(bar.value * 100)}%`;
      if (job.status === 'finished') resolve(job);
      else if (job.status === 'failed') reject(Object.assign(new Error(job.error ? job.error.message : t('Failed')), { job }));
      else setTimeout(poll, interval);
    };
    poll();
  });
}

// Reads a <script type="application/json" id="..."> data block rendered by the page.
export function pageData(id) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : null;
}
