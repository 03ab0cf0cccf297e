import { api, enc } from './api.js';
import { promptDialog } from './dialogs.js';
import { announce, busy, errorBox, field, h, replaceChildren } from './dom.js';
import { bytes, count, dateTime, plural } from './format.js';
import { projectStore } from './projects.js';

export async function renderProject(main, ready, projectId) {
  let project = projectStore.get(projectId);
  if (!project) {
    try {
      project = await api(`/api/projects/${enc(projectId)}`);
    } catch (error) {
      if (error.status === 401) return; // the sign-in form has replaced the view
      replaceChildren(main, h('h1', {}, 'Project'), errorBox(error), h('p', {}, h('a', { href: '#/' }, 'Back to all projects')));
      ready();
      return;
    }
  }
  const parent = project.parent_id ? projectStore.get(project.parent_id) : undefined;
  const sandboxes = projectStore.tree().childrenOf(project.id);

  const collections = h('section', { 'aria-labelledby': 'collections-h' });
  const workflows = h('section', { 'aria-labelledby': 'workflows-h' });
  const servers = h('section', { 'aria-labelledby': 'servers-h' });

  replaceChildren(
    main,
    h('nav', { 'aria-label': 'Breadcrumb', class: 'breadcrumb' }, h('ol', {}, h('li', {}, h('a', { href: '#/' }, 'Projects')), parent && h('li', {}, h('a', { href: `#/projects/${parent.id}` }, parent.name)), h('li', { 'aria-current': 'page' }, project.name))),
    h('h1', {}, project.name, project.parent_id && h('span', { class: 'badge large' }, 'sandbox')),
    h('p', { class: 'meta' },
      project.role && `Your role: ${project.role}`,
      project.parent_id && [' · Sandbox of ', parent ? h('a', { href: `#/projects/${parent.id}` }, parent.name) : 'a project you cannot see'],
    ),
    project.parent_id && h('div', { class: 'actions' },
      h('a', { class: 'button primary', href: `#/projects/${project.id}/merge` }, 'Merge into parent…'),
      h('span', { class: 'hint' }, 'Shows what the merge will create and delete before anything happens.')),
    collections,
    sandboxSection(project, sandboxes),
    workflows,
    servers,
  );
  ready();
  await Promise.all([
    renderCollections(collections, project),
    renderWorkflows(workflows, project),
    renderServers(servers, project),
  ]);
}

// ---- collections ----

async function renderCollections(section, project) {
  const heading = h('h2', { id: 'collections-h', tabindex: '-1' }, 'Collections');
  let list;
  try {
    list = (await api(`/api/projects/${enc(project.id)}/collections`)).collections ?? [];
  } catch (error) {
    replaceChildren(section, heading, errorBox(error));
    return;
  }
  const refresh = () => renderCollections(section, project);
  const table = list.length
    ? h('table', { class: 'data' },
        h('caption', { class: 'visually-hidden' }, `Collections of ${project.name}`),
        h('thead', {}, h('tr', {}, ['Name', 'Items', 'Size'].map((c) => h('th', { scope: 'col', class: c === 'Name' ? '' : 'num' }, c)), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
        h('tbody', {}, list.map((c) => collectionRow(project, c, heading, refresh))),
      )
    : h('p', { class: 'muted' }, 'No collections yet.');

  const { wrapper, input } = field('New collection name', { name: 'name', required: true, maxlength: 255, autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'collection-name-hint' });
  const hint = h('p', { class: 'hint', id: 'collection-name-hint' }, 'A URL-safe name: letters, digits, and - . _ ~');
  const problem = h('div');
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Create collection');
  const form = h('form', {
    class: 'inline-form',
    onsubmit: async (event) => {
      event.preventDefault();
      const name = input.value.trim();
      await busy(submit, async () => {
        try {
          await api(`/api/projects/${enc(project.id)}/collections`, { method: 'POST', json: { name } });
          announce(`Collection ${name} created.`);
          await refresh();
          section.querySelector(`a[data-collection="${CSS.escape(name)}"]`)?.focus();
        } catch (error) {
          replaceChildren(problem, errorBox(error));
          input.focus();
        }
      });
    },
  }, wrapper, submit);
  replaceChildren(section, heading, table, form, hint, problem);
}

function collectionRow(project, c, heading, refresh) {
  const path = `/api/projects/${enc(project.id)}/collections/${enc(c.name)}`;
  const rename = h('button', {
    type: 'button',
    'aria-label': `Rename ${c.name}`,
    onclick: () => promptDialog({
      title: `Rename collection ${c.name}`,
      label: 'New name',
      value: c.name,
      submitLabel: 'Rename',
      returnTo: rename,
      fallback: heading,
      submit: async (name) => {
        await api(path, { method: 'PATCH', json: { name } });
        announce(`Collection ${c.name} renamed to ${name}.`);
        await refresh();
      },
    }),
  }, 'Rename');
  const remove = h('button', {
    type: 'button',
    class: 'danger-outline',
    'aria-label': `Delete ${c.name}`,
    onclick: () => promptDialog({
      title: `Delete collection ${c.name}?`,
      intro: h('p', { class: 'warning' }, `This permanently deletes ${c.name} and its ${plural(c.item_count, 'item', 'items')} (${bytes(c.byte_size)}). It cannot be undone.`),
      label: `Type ${c.name} to confirm`,
      submitLabel: 'Delete collection',
      danger: true,
      mustEqual: c.name,
      returnTo: heading,
      submit: async () => {
        await api(path, { method: 'DELETE' });
        announce(`Collection ${c.name} deleted.`);
        await refresh();
      },
    }),
  }, 'Delete');
  return h('tr', {},
    h('th', { scope: 'row', 'data-label': 'Name' }, h('a', { href: `#/projects/${project.id}/collections/${enc(c.name)}`, 'data-collection': c.name }, c.name)),
    h('td', { class: 'num', 'data-label': 'Items' }, count(c.item_count)),
    h('td', { class: 'num', 'data-label': 'Size', title: `${count(c.byte_size)} bytes` }, bytes(c.byte_size)),
    h('td', { class: 'row-actions' }, rename, remove),
  );
}

// ---- sandboxes ----

function sandboxSection(project, sandboxes) {
  const { wrapper, input } = field('Sandbox name', { name: 'name', required: true, maxlength: 255, autocomplete: 'off' });
  const problem = h('div');
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Provision sandbox');
  const form = h('form', {
    class: 'inline-form',
    onsubmit: async (event) => {
      event.preventDefault();
      await busy(submit, async () => {
        try {
          const sandbox = await api(`/api/projects/${enc(project.id)}/sandboxes`, { method: 'POST', json: { name: input.value.trim() } });
          await projectStore.refresh();
          announce(`Sandbox ${sandbox.name} provisioned with empty copies of this project's collections.`);
          location.hash = `#/projects/${sandbox.id}`;
        } catch (error) {
          replaceChildren(problem, errorBox(error));
          input.focus();
        }
      });
    },
  }, wrapper, submit);
  return h('section', { 'aria-labelledby': 'sandboxes-h' },
    h('h2', { id: 'sandboxes-h' }, 'Sandboxes'),
    sandboxes.length
      ? h('ul', { class: 'plain-list' }, sandboxes.map((s) => h('li', {}, h('a', { href: `#/projects/${s.id}` }, s.name))))
      : h('p', { class: 'muted' }, 'No sandboxes of this project.'),
    h('p', { class: 'hint' }, 'A new sandbox gets an empty collection for each collection here; no items are copied.'),
    form,
    problem,
  );
}

// ---- workflows, servers and releases (read-only) ----

async function renderWorkflows(section, project) {
  const heading = h('h2', { id: 'workflows-h' }, 'Workflows');
  try {
    const list = (await api(`/api/projects/${enc(project.id)}/workflows`)).workflows ?? [];
    replaceChildren(section, heading, list.length
      ? h('table', { class: 'data' },
          h('caption', { class: 'visually-hidden' }, `Workflows of ${project.name}`),
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col', class: 'num' }, 'Lock version'), h('th', { scope: 'col' }, 'Updated'))),
          h('tbody', {}, list.map((w) => h('tr', {},
            h('th', { scope: 'row', 'data-label': 'Name' }, w.name, w.deleted_at && h('span', { class: 'badge' }, 'deleted')),
            h('td', { class: 'num', 'data-label': 'Lock version' }, String(w.lock_version ?? '—')),
            h('td', { 'data-label': 'Updated' }, dateTime(w.updated_at)),
          ))),
        )
      : h('p', { class: 'muted' }, 'No workflows.'));
  } catch (error) {
    replaceChildren(section, heading, errorBox(error));
  }
}

async function renderServers(section, project) {
  const heading = h('h2', { id: 'servers-h' }, 'Servers and releases');
  try {
    const list = (await api(`/api/projects/${enc(project.id)}/servers`)).servers ?? [];
    const releases = await Promise.all(list.map((s) =>
      api(`/api/servers/${enc(s.id)}/releases`).then((b) => b.releases ?? [], (error) => error)));
    replaceChildren(section, heading, list.length
      ? list.map((server, i) => h('div', { class: 'server' },
          h('h3', {}, server.name),
          releases[i] instanceof Error ? errorBox(releases[i])
            : releases[i].length ? h('table', { class: 'data' },
                h('caption', { class: 'visually-hidden' }, `Releases on ${server.name}`),
                h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Effective handle'), h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Release command'))),
                h('tbody', {}, releases[i].map((r) => h('tr', {},
                  h('th', { scope: 'row', 'data-label': 'Effective handle' }, r.effective_handle ?? h('span', { class: 'muted' }, 'none (logs only)')),
                  h('td', { 'data-label': 'Name' }, r.name ?? '—'),
                  h('td', { 'data-label': 'Release command' }, r.release_command ? h('code', {}, r.release_command) : '—'),
                ))),
              )
            : h('p', { class: 'muted' }, 'No releases.'),
        ))
      : h('p', { class: 'muted' }, 'No servers.'));
  } catch (error) {
    replaceChildren(section, heading, errorBox(error));
  }
}
