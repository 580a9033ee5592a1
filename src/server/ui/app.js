// app.js - the dashboard's shell (docs/dashboard.md): the sign-in form, who
// is signed in (GET /api/v1/whoami: the user and the roles the token acts
// with, which decide the buttons shown), and the pages by the URL's hash:
//   #/                 deployments now and recent
//   #/deployments/ID   one deployment, live
//   #/calendar         windows and freezes, the next 14 days
//   #/dora             DORA metrics against their targets, by month
// Each page returns a function that stops its timers when another is shown.
import { api, token, ApiError } from './api.js';
import { h, showError, clearError, deploymentsPage, deploymentPage, calendarPage, doraPage } from './pages.js';

const main = document.getElementById('main');
let stopPage = null;
let identity = null;

function signInPage(message) {
  const input = h('input', { type: 'password', id: 'token', name: 'token', autocomplete: 'off', spellcheck: 'false',
    placeholder: 'swt_…', required: true });
  const form = h('form', { id: 'signin', class: 'card' },
    h('h1', {}, 'Sign in'),
    h('p', {}, 'Paste an API token (', h('code', {}, 'slipway token create --user NAME'),
      '). It is kept in this tab only (sessionStorage) and sent to this server as a bearer token.'),
    h('label', { for: 'token' }, 'Token'), input,
    h('button', { type: 'submit' }, 'Sign in'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    token.set(input.value.trim());
    try {
      identity = await api('GET', '/whoami');
      clearError();
      route();
    } catch (e) {
      token.clear();
      showError(e);
    }
  });
  main.replaceChildren(form);
  if (message) showError(message);
  input.focus();
}

function showIdentity() {
  const who = document.getElementById('who');
  document.getElementById('nav').hidden = !identity;
  document.getElementById('signout').hidden = !identity;
  who.replaceChildren();
  if (identity) {
    who.append(h('span', { id: 'user' }, identity.user),
      ' ', h('span', { class: 'muted', id: 'roles' },
        identity.roles.length ? 'roles: ' + identity.roles.join(', ') : 'no roles (read only)'));
  }
}

async function route() {
  if (stopPage) stopPage();
  stopPage = null;
  if (!token.get()) {
    identity = null;
    showIdentity();
    signInPage();
    return;
  }
  if (!identity) {
    try {
      identity = await api('GET', '/whoami');
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        token.clear();
        identity = null;
        showIdentity();
        signInPage(e);
        return;
      }
      showError(e);
      return;
    }
  }
  showIdentity();
  clearError();
  const hash = location.hash || '#/';
  let m;
  const ctx = { identity, main };
  for (const a of document.querySelectorAll('[data-nav]')) a.classList.remove('active');
  if ((m = hash.match(/^#\/deployments\/(\d+)$/))) {
    stopPage = deploymentPage(ctx, Number(m[1]));
  } else if (hash === '#/calendar') {
    document.querySelector('[data-nav=calendar]').classList.add('active');
    stopPage = calendarPage(ctx);
  } else if (hash === '#/dora') {
    document.querySelector('[data-nav=dora]').classList.add('active');
    stopPage = doraPage(ctx);
  } else {
    document.querySelector('[data-nav=deployments]').classList.add('active');
    stopPage = deploymentsPage(ctx);
  }
}

document.getElementById('signout').addEventListener('click', () => {
  token.clear();
  identity = null;
  location.hash = '#/';
  route();
});
window.addEventListener('hashchange', route);
route();
