// Translations for page scripts, from the same gettext catalogue as the templates.
// Write t('English text') (or t('Hello %(name)s', {name})) so `pybabel extract -k t` finds it.
const lang = document.body.dataset.lang || 'zh-CN';

async function loadCatalogue() {
  // English pages show the API's own (English) messages
  if (lang === 'en') return { messages: {}, errors: {} };
  // the server answers by the lang cookie; the query only keeps the two languages apart in the
  // browser cache, so a switch never shows the other language's cached catalogue
  const response = await fetch(`/i18n/messages.json?lang=${lang}`, { credentials: 'same-origin' });
  if (!response.ok) return { messages: {}, errors: {} };
  return response.json();
}

// top-level await: every module importing t() gets it only once the catalogue is here
const { messages: catalogue, errors } = await loadCatalogue();

export function t(msgid, params = {}) {
  const text = catalogue[msgid] || msgid;
  return text.replace(/%\((\w+)\)s/g, (match, name) => (name in params ? String(params[name]) : match));
}

/** What an error code means in the page's language (crm/web/error_texts.py), or null. */
export function errorMessage(code) {
  return errors[code] || null;
}

export function currentLang() {
  return lang;
}
