import { api, session, whenUnauthorized } from './api.js';
import { renderCollection } from './collection-view.js';
import { announce, busy, errorBox, field, h, replaceChildren } from './dom.js';
import { renderMerge } from './merge-view.js';
import { renderProject } from './project-view.js';
import { projectStore } from './projects.js';

const main = document.getElementById('main');
const sidebar = document.getElementById('sidebar');
const sessionBar = document.getElementById('session');
const layout = document.getElementById('layout');

/** Hash routes: the server serves one page, and a copied address reopens the same view. */
const routes = [
  [/^#\/projects\/([^/]+)\/collections\/([^/]+)$/, (ready, id, name) => renderCollection(main, ready, id, name)],
  [/^#\/projects\/([^/]+)\/merge$/, (ready, id) => renderMerge(main, ready, id)],
  [/^#\/projects\/([^/]+)$/, (ready, id) => renderProject(main, ready, id)],
  [/^(?:#\/?)?$/, (ready) => renderHome(ready)],
];

let renderCount = 0;

async function route({ moveFocus }) {
  if (!session.token) return renderSignIn();
  const hash = location.hash;
  const render = ++renderCount;
  closeSidebar();
  renderTree();
  // Views call ready() once their heading is on screen, before their data arrives,
  // so focus moves at once and is not yanked back after the user has moved on.
  let focused = false;
  const ready = () => {
    if (focused || render !== renderCount) return;
    focused = true;
    afterRender(moveFocus);
  };
  const [match, view] = routes.map(([pattern, v]) => [pattern.exec(hash), v]).find(([m]) => m) ?? [[], renderNotFound];
  let parts;
  try {
    parts = match.slice(1).map(decodeURIComponent);
  } catch {
    parts = null; // a malformed %-escape in a hand-typed address
  }
  await (parts ? view(ready, ...parts) : renderNotFound(ready));
  ready();
}

function renderNotFound(ready) {
  replaceChildren(main, h('h1', {}, 'Page not found'), h('p', {}, h('a', { href: '#/' }, 'Back to all projects')));
  ready();
}

/** After a view change, keyboard and screen-reader users land on the new view's heading. */
function afterRender(moveFocus) {
  const heading = main.querySelector('h1');
  document.title = heading ? `${heading.textContent} · Sandbar console` : 'Sandbar console';
  if (!moveFocus) return;
  if (heading) {
    heading.tabIndex = -1;
    heading.focus();
  } else {
    main.focus();
  }
}

// ---- sign in / out ----

function renderSignIn(message) {
  sidebar.hidden = true;
  layout.classList.add('signed-out');
  replaceChildren(sessionBar);
  const { wrapper, input } = field(
    'Personal access token',
    { tag: 'textarea', name: 'token', rows: 4, required: true, autocomplete: 'off', spellcheck: 'false', class: 'mono' },
    ['Create one with ', h('code', {}, 'sandbar token issue <email>'), ' or ', h('code', {}, 'POST /api/tokens'), '. It is kept only in this tab, until you sign out.'],
  );
  const problem = h('div');
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h(
    'form',
    {
      class: 'card narrow',
      onsubmit: async (event) => {
        event.preventDefault();
        const token = input.value.trim().replace(/^Bearer\s+/i, '');
        if (!token) return;
        await busy(submit, async () => {
          try {
            // Checking the token with a harmless read tells a typo from a server problem now, not later.
            await api('/api/projects', { token });
            session.signIn(token);
            announce('Signed in.');
            await start(true);
          } catch (error) {
            replaceChildren(problem, errorBox(error.status === 401 ? new Error('That token was not accepted. Check that it is complete and not expired or revoked.') : error));
            input.focus();
          }
        });
      },
    },
    wrapper,
    problem,
    h('div', { class: 'actions' }, submit),
  );
  replaceChildren(
    main,
    h('h1', {}, 'Sign in'),
    message && errorBox(new Error(message)),
    form,
  );
  document.title = 'Sign in · Sandbar console';
  input.focus();
}

function signOut() {
  session.signOut();
  projectStore.clear();
  history.replaceState(null, '', location.pathname);
  renderSignIn();
  announce('Signed out.');
}

whenUnauthorized(() => {
  if (!session.token) return;
  session.signOut();
  projectStore.clear();
  renderSignIn('Your session ended: the server no longer accepts this token. Sign in again.');
});

// ---- shell: session bar and project tree ----

function renderSessionBar() {
  const toggle = h(
    'button',
    {
      type: 'button',
      class: 'menu-toggle',
      'aria-controls': 'sidebar',
      'aria-expanded': 'false',
      onclick: () => {
        const open = !layout.classList.contains('sidebar-open');
        layout.classList.toggle('sidebar-open', open);
        toggle.setAttribute('aria-expanded', String(open));
        if (open) sidebar.querySelector('a')?.focus();
      },
    },
    'Projects',
  );
  replaceChildren(sessionBar, toggle, h('button', { type: 'button', onclick: signOut }, 'Sign out'));
}

function closeSidebar() {
  layout.classList.remove('sidebar-open');
  sessionBar.querySelector('.menu-toggle')?.setAttribute('aria-expanded', 'false');
}

function renderTree() {
  const current = /^#\/projects\/([^/]+)/.exec(location.hash)?.[1];
  const { roots, childrenOf, error } = projectStore.tree();
  const branch = (projects) =>
    h(
      'ul',
      {},
      projects.map((p) =>
        h(
          'li',
          {},
          h(
            'a',
            { href: `#/projects/${p.id}`, 'aria-current': p.id === current ? 'page' : undefined },
            h('span', { class: 'tree-name' }, p.name),
            p.parent_id && h('span', { class: 'badge' }, 'sandbox'),
          ),
          childrenOf(p.id).length > 0 && branch(childrenOf(p.id)),
        ),
      ),
    );
  replaceChildren(
    sidebar,
    h('h2', { class: 'sidebar-title' }, h('a', { href: '#/' }, 'Projects')),
    error && errorBox(error),
    roots.length ? h('div', { class: 'tree' }, branch(roots)) : !error && h('p', { class: 'muted' }, 'No projects yet.'),
  );
}
projectStore.onChange(renderTree);

// ---- home: all projects, and a new one ----

async function renderHome(ready) {
  const { roots, childrenOf, error } = projectStore.tree();
  const { wrapper, input } = field('Project name', { name: 'name', required: true, maxlength: 255, autocomplete: 'off' });
  const problem = h('div');
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Create project');
  const form = h(
    'form',
    {
      class: 'inline-form',
      onsubmit: async (event) => {
        event.preventDefault();
        await busy(submit, async () => {
          try {
            const project = await api('/api/projects', { method: 'POST', json: { name: input.value.trim() } });
            await projectStore.refresh();
            announce(`Project ${project.name} created.`);
            location.hash = `#/projects/${project.id}`;
          } catch (e) {
            replaceChildren(problem, errorBox(e));
          }
        });
      },
    },
    wrapper,
    submit,
  );
  const rows = [];
  const walk = (projects, depth) => {
    for (const p of projects) {
      rows.push(
        h(
          'tr',
          {},
          h('td', { 'data-label': 'Project' }, h('a', { href: `#/projects/${p.id}`, class: `depth-${Math.min(depth, 4)}` }, p.name)),
          h('td', { 'data-label': 'Kind' }, p.parent_id ? 'Sandbox' : 'Project'),
          h('td', { 'data-label': 'Your role' }, p.role),
        ),
      );
      walk(childrenOf(p.id), depth + 1);
    }
  };
  walk(roots, 0);
  replaceChildren(
    main,
    h('h1', {}, 'Projects'),
    error && errorBox(error),
    rows.length
      ? h(
          'table',
          { class: 'data' },
          h('caption', { class: 'visually-hidden' }, 'Your projects and their sandboxes'),
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Project'), h('th', { scope: 'col' }, 'Kind'), h('th', { scope: 'col' }, 'Your role'))),
          h('tbody', {}, rows),
        )
      : h('p', { class: 'muted' }, 'You are not a member of any project yet.'),
    h('section', { 'aria-labelledby': 'new-project' }, h('h2', { id: 'new-project' }, 'New project'), form, problem),
  );
  ready();
}

// ---- start ----

async function start(moveFocus) {
  layout.classList.remove('signed-out');
  sidebar.hidden = false;
  renderSessionBar();
  await projectStore.refresh();
  await route({ moveFocus });
}

window.addEventListener('hashchange', () => route({ moveFocus: true }));
document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && layout.classList.contains('sidebar-open')) {
    closeSidebar();
    sessionBar.querySelector('.menu-toggle')?.focus();
  }
});

if (session.token) start(false);
else renderSignIn();
