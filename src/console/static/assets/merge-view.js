import { api, enc } from './api.js';
import { announce, busy, errorBox, h, replaceChildren } from './dom.js';
import { bytes, count, plural } from './format.js';
import { projectStore } from './projects.js';

/**
 * The preview answers {to_create: [name], to_delete: [{name, item_count, byte_size}], warning};
 * the merge answers {created: [name], deleted: [{name, item_count, byte_size}]}.
 */
export function normalizeChanges(body) {
  const entry = (x) => (typeof x === 'string' ? { name: x, item_count: 0, byte_size: 0 } : { name: x.name, item_count: Number(x.item_count ?? 0), byte_size: Number(x.byte_size ?? 0) });
  return {
    create: (body?.to_create ?? body?.created ?? []).map(entry),
    delete: (body?.to_delete ?? body?.deleted ?? []).map(entry),
  };
}

/** The confirm button says what will happen, not just "OK". */
export function consequence(changes) {
  const items = changes.delete.reduce((sum, c) => sum + c.item_count, 0);
  if (changes.delete.length) {
    return `Merge and permanently delete ${plural(changes.delete.length, 'collection', 'collections')} (${plural(items, 'item', 'items')})`;
  }
  if (changes.create.length) return `Merge and create ${plural(changes.create.length, 'empty collection', 'empty collections')}`;
  return 'Merge (nothing will change)';
}

export async function renderMerge(main, ready, sandboxId) {
  const sandbox = projectStore.get(sandboxId);
  const parent = sandbox?.parent_id ? projectStore.get(sandbox.parent_id) : undefined;
  const sandboxName = sandbox?.name ?? 'sandbox';
  const parentName = parent?.name ?? 'its parent';
  const crumbs = h('nav', { 'aria-label': 'Breadcrumb', class: 'breadcrumb' }, h('ol', {},
    h('li', {}, h('a', { href: '#/' }, 'Projects')),
    parent && h('li', {}, h('a', { href: `#/projects/${parent.id}` }, parent.name)),
    h('li', {}, h('a', { href: `#/projects/${sandboxId}` }, sandboxName)),
    h('li', { 'aria-current': 'page' }, 'Merge')));
  const heading = h('h1', {}, `Merge ${sandboxName} into ${parentName}`);
  const body = h('div', { 'aria-busy': 'true' }, h('p', { class: 'muted' }, 'Loading the merge preview…'));
  replaceChildren(main, crumbs, heading, h('p', {},
    'A merge makes the collection names in ', h('strong', {}, parentName), ' match the sandbox. Items are never copied in either direction.'), body);
  ready();

  let preview;
  try {
    preview = await api(`/api/projects/${enc(sandboxId)}/merge-preview`);
  } catch (error) {
    replaceChildren(body, errorBox(error), h('p', {}, h('a', { href: `#/projects/${sandboxId}` }, `Back to ${sandboxName}`)));
    body.removeAttribute('aria-busy');
    return;
  }
  const changes = normalizeChanges(preview);
  const deletesItems = changes.delete.length > 0;
  const problem = h('div');
  const confirm = h('button', { type: 'button', class: deletesItems ? 'danger' : 'primary' }, consequence(changes));
  const cancel = h('a', { class: 'button', href: `#/projects/${sandboxId}` }, 'Cancel');

  confirm.addEventListener('click', async () => {
    await busy(confirm, async () => {
      try {
        const result = await api(`/api/projects/${enc(sandboxId)}/merge`, { method: 'POST', json: {} });
        await projectStore.refresh();
        showResult(body, normalizeChanges(result), { sandboxId, sandboxName, parent, parentName });
      } catch (error) {
        replaceChildren(problem, errorBox(error));
      }
    });
  });

  replaceChildren(body,
    preview.warning && h('div', { class: deletesItems ? 'callout danger' : 'callout' },
      h('h2', { class: 'small-heading' }, deletesItems ? 'Permanent deletion' : 'What will happen'),
      h('p', { class: 'merge-warning' }, preview.warning)),
    changeLists(changes, parentName, 'will be'),
    problem,
    h('div', { class: 'actions' }, confirm, cancel),
  );
  body.removeAttribute('aria-busy');
}

function changeLists(changes, parentName, tense) {
  const created = changes.create;
  const deleted = changes.delete;
  const totalItems = deleted.reduce((s, c) => s + c.item_count, 0);
  const totalBytes = deleted.reduce((s, c) => s + c.byte_size, 0);
  return [
    h('section', { 'aria-labelledby': 'create-h' },
      h('h2', { id: 'create-h' }, `Created empty in ${parentName} (${count(created.length)})`),
      created.length
        ? h('ul', { class: 'plain-list mono' }, created.map((c) => h('li', {}, c.name)))
        : h('p', { class: 'muted' }, `No collections ${tense} created.`)),
    h('section', { 'aria-labelledby': 'delete-h' },
      h('h2', { id: 'delete-h' }, `Permanently deleted from ${parentName} (${count(deleted.length)})`),
      deleted.length
        ? h('table', { class: 'data' },
            h('caption', { class: 'visually-hidden' }, `Collections that ${tense} deleted, with their items`),
            h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Collection'), h('th', { scope: 'col', class: 'num' }, 'Items'), h('th', { scope: 'col', class: 'num' }, 'Size'))),
            h('tbody', {}, deleted.map((c) => h('tr', {},
              h('th', { scope: 'row', 'data-label': 'Collection' }, h('code', {}, c.name)),
              h('td', { class: 'num', 'data-label': 'Items' }, count(c.item_count)),
              h('td', { class: 'num', 'data-label': 'Size', title: `${count(c.byte_size)} bytes` }, bytes(c.byte_size))))),
            h('tfoot', {}, h('tr', {},
              h('th', { scope: 'row' }, 'Total'),
              h('td', { class: 'num', 'data-label': 'Items' }, count(totalItems)),
              h('td', { class: 'num', 'data-label': 'Size', title: `${count(totalBytes)} bytes` }, bytes(totalBytes)))))
        : h('p', { class: 'muted' }, `No collections ${tense} deleted.`)),
  ];
}

function showResult(body, changes, { sandboxId, sandboxName, parent, parentName }) {
  const items = changes.delete.reduce((s, c) => s + c.item_count, 0);
  const summary = `Merged ${sandboxName} into ${parentName}: created ${plural(changes.create.length, 'collection', 'collections')}, deleted ${plural(changes.delete.length, 'collection', 'collections')} with ${plural(items, 'item', 'items')}.`;
  const heading = h('h2', { tabindex: '-1', class: 'result-heading' }, 'Merge complete');
  replaceChildren(body,
    h('div', { class: 'callout success' }, heading, h('p', { class: 'merge-result' }, summary)),
    changeLists(changes, parentName, 'were'),
    h('p', { class: 'actions' },
      parent && h('a', { class: 'button primary', href: `#/projects/${parent.id}` }, `Open ${parentName}`),
      h('a', { class: 'button', href: `#/projects/${sandboxId}` }, `Back to ${sandboxName}`)),
  );
  heading.focus();
  announce(summary);
}
