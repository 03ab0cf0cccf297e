import { api, apiBlob, enc } from './api.js';
import { announce, busy, errorBox, field, h, replaceChildren } from './dom.js';
import { count, dateTime, plural, prettyValue } from './format.js';
import { projectStore } from './projects.js';

const PAGE_SIZE = 50;
const filterFields = [
  ['created_after', 'Created after'],
  ['created_before', 'Created before'],
  ['updated_after', 'Updated after'],
  ['updated_before', 'Updated before'],
];

export async function renderCollection(main, ready, projectId, name) {
  const project = projectStore.get(projectId);
  const projectName = project?.name ?? 'Project';
  const itemsPath = `/collections/${enc(projectId)}/${enc(name)}`;

  const download = h('button', { type: 'button', onclick: () => busy(download, () => downloadCollection(projectId, name, downloadProblem)) }, `Download ${name}.json`);
  const downloadProblem = h('div');

  // ---- filters ----
  const key = field('Key pattern', { name: 'key', autocomplete: 'off', spellcheck: 'false', placeholder: 'e.g. cat-*' }, '* matches any run of characters; everything else is literal.');
  const dates = filterFields.map(([param, label]) => ({ param, ...field(label, { name: param, type: 'datetime-local', step: 1 }) }));
  const filterProblem = h('div');
  const apply = h('button', { type: 'submit', class: 'primary' }, 'Apply filters');
  const clear = h('button', { type: 'reset' }, 'Clear');
  const filters = h('form', { class: 'filters', 'aria-labelledby': 'filters-h' },
    h('h2', { id: 'filters-h', class: 'small-heading' }, 'Filter items'),
    h('div', { class: 'key-field' }, key.wrapper),
    h('div', { class: 'filter-grid' }, dates.map((d) => d.wrapper)),
    filterProblem,
    h('div', { class: 'actions' }, apply, clear),
  );

  // ---- results ----
  const summary = h('p', { class: 'meta', id: 'items-summary' });
  const tbody = h('tbody');
  const table = h('table', { class: 'data items', 'aria-describedby': 'items-summary' },
    h('caption', { class: 'visually-hidden' }, `Items in ${name}`),
    h('thead', {}, h('tr', {}, ['Key', 'Value', 'Created', 'Updated'].map((c) => h('th', { scope: 'col' }, c)))),
    tbody);
  const more = h('button', { type: 'button', hidden: true }, 'Load more items');
  const listProblem = h('div');

  let cursor = null;
  let shown = 0;
  let query = new URLSearchParams();

  async function loadPage(reset) {
    const params = new URLSearchParams(query);
    params.set('limit', String(PAGE_SIZE));
    if (!reset && cursor) params.set('cursor', cursor);
    try {
      const page = await api(`${itemsPath}?${params}`, { headers: { 'x-api-version': '2' } });
      replaceChildren(listProblem);
      if (reset) {
        tbody.replaceChildren();
        shown = 0;
      }
      const firstNew = page.items?.length ? shown : -1;
      for (const item of page.items ?? []) tbody.append(itemRow(item));
      shown += page.items?.length ?? 0;
      cursor = page.cursor ?? null;
      more.hidden = !cursor;
      table.hidden = shown === 0;
      const filtered = [...query.keys()].length > 0;
      summary.textContent = shown === 0
        ? (filtered ? 'No items match these filters.' : 'This collection has no items.')
        : `Showing ${plural(shown, 'item', 'items')}${cursor ? '; more are available' : ''}${filtered ? ' matching the filters' : ''}.`;
      return firstNew;
    } catch (error) {
      replaceChildren(listProblem, errorBox(error));
      return -1;
    }
  }

  filters.addEventListener('submit', async (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    if (key.input.value.trim()) next.set('key', key.input.value.trim());
    for (const d of dates) {
      if (!d.input.value) continue;
      const when = new Date(d.input.value);
      if (Number.isNaN(when.getTime())) {
        replaceChildren(filterProblem, errorBox(new Error(`${d.wrapper.querySelector('label').textContent} is not a valid date and time.`)));
        d.input.focus();
        return;
      }
      // datetime-local is the user's local time; the API wants an absolute instant.
      next.set(d.param, when.toISOString());
    }
    replaceChildren(filterProblem);
    query = next;
    cursor = null;
    await busy(apply, () => loadPage(true));
    announce(summary.textContent);
  });
  filters.addEventListener('reset', () => {
    queueMicrotask(async () => {
      replaceChildren(filterProblem);
      query = new URLSearchParams();
      cursor = null;
      await loadPage(true);
      announce(summary.textContent);
    });
  });
  more.addEventListener('click', async () => {
    const firstNew = await busy(more, () => loadPage(false));
    announce(summary.textContent);
    // The button may vanish on the last page; keep keyboard users in the list, at the first new row.
    const row = firstNew >= 0 ? tbody.rows[firstNew] : null;
    if (more.hidden && row) row.querySelector('th').focus();
  });

  replaceChildren(main,
    h('nav', { 'aria-label': 'Breadcrumb', class: 'breadcrumb' }, h('ol', {},
      h('li', {}, h('a', { href: '#/' }, 'Projects')),
      h('li', {}, h('a', { href: `#/projects/${projectId}` }, projectName)),
      h('li', { 'aria-current': 'page' }, name))),
    h('div', { class: 'view-header' }, h('h1', {}, h('span', { class: 'muted small' }, 'Collection '), name), download),
    downloadProblem,
    filters,
    h('section', { 'aria-labelledby': 'items-h' },
      h('h2', { id: 'items-h' }, 'Items'),
      summary, listProblem, table, more),
  );
  ready();
  await loadPage(true);
}

function itemRow(item) {
  const pretty = prettyValue(item.value);
  return h('tr', {},
    h('th', { scope: 'row', 'data-label': 'Key', tabindex: '-1' }, h('code', {}, item.key)),
    h('td', { 'data-label': 'Value' }, h('pre', { class: 'value', tabindex: '0', 'aria-label': `Value of ${item.key}` }, pretty)),
    h('td', { 'data-label': 'Created' }, h('time', { datetime: item.created }, dateTime(item.created))),
    h('td', { 'data-label': 'Updated' }, h('time', { datetime: item.updated }, dateTime(item.updated))),
  );
}

async function downloadCollection(projectId, name, problem) {
  try {
    const blob = await apiBlob(`/api/projects/${enc(projectId)}/collections/${enc(name)}/download`);
    const url = URL.createObjectURL(blob);
    const link = h('a', { href: url, download: `${name}.json`, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    // Revoked after the click has been handed to the download manager.
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    replaceChildren(problem);
    announce(`Downloaded ${name}.json (${count(blob.size)} bytes).`);
  } catch (error) {
    replaceChildren(problem, errorBox(error));
  }
}
