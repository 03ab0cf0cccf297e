/**
 * The web console, driven in a real Chromium against the real server: the
 * Cat Shelter story at desktop (1280 px) and phone (390 px) widths, plus the
 * static-file route's guarantees (content types, caching, no traversal).
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createTestUser, ok, type TestUser } from '../helpers/identity.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const screenshots = fileURLToPath(new URL('./screenshots/', import.meta.url));

if (!hasChromium) {
  console.warn(
    `\n${'!'.repeat(78)}\n!!! SKIPPING the console browser tests: ${CHROMIUM} is not installed.\n` +
      `!!! Install it with \`apt-get install -y chromium\` (CI's .ci/run does) to run them.\n${'!'.repeat(78)}\n`,
  );
}
const browserTest = hasChromium ? test.serial : test.skip;

let s: TestServer;
let browser: Browser | undefined;

test.before(async () => {
  s = await startTestServer();
  if (hasChromium) {
    await mkdir(screenshots, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    });
  }
});
test.after.always(async () => {
  await browser?.close();
  await s?.stop();
});

// ---- static files ----

test('GET /console serves the page with a strict same-origin policy', async (t) => {
  for (const p of ['/console', '/console/']) {
    const res = await s.request(p);
    t.is(res.status, 200, p);
    t.is(res.headers.get('content-type'), 'text/html; charset=utf-8');
    t.is(res.headers.get('cache-control'), 'no-cache');
    t.is(res.headers.get('x-content-type-options'), 'nosniff');
    t.regex(res.headers.get('content-security-policy') ?? '', /default-src 'none'.*connect-src 'self'/);
    t.regex(await res.text(), /<script type="module" src="\/console\/assets\/app\.js"><\/script>/);
  }
});

test('assets have their content types and revalidate by ETag', async (t) => {
  const expected: Record<string, string> = {
    'app.js': 'text/javascript; charset=utf-8',
    'console.css': 'text/css; charset=utf-8',
    'favicon.svg': 'image/svg+xml',
  };
  for (const [file, type] of Object.entries(expected)) {
    const res = await s.request(`/console/assets/${file}`);
    t.is(res.status, 200, file);
    t.is(res.headers.get('content-type'), type, file);
    const etag = res.headers.get('etag');
    t.truthy(etag);
    const again = await s.request(`/console/assets/${file}`, { headers: { 'if-none-match': etag! } });
    t.is(again.status, 304, file);
    t.is(await again.text(), '');
  }
});

test('nothing outside the asset folder can be reached', async (t) => {
  const attempts = [
    '/console/assets/../routes.ts',
    '/console/assets/..%2Froutes.ts',
    '/console/assets/%2e%2e%2f%2e%2e%2fpackage.json',
    '/console/assets/..%5C..%5Cpackage.json',
    '/console/assets/',
    '/console/assets/.',
    '/console/assets/app.js%00.css',
    '/console/assets/nope.js',
    '/console/index.html',
    '/console/routes.ts',
    '/console/assets/assets/app.js',
  ];
  for (const attempt of attempts) {
    const res = await s.request(attempt);
    t.is(res.status, 404, attempt);
    t.notRegex(await res.text(), /consoleRoutes|"name": "sandbar"/, attempt);
  }
});

// ---- the Cat Shelter story ----

const cats = [
  { key: 'cat-tom', value: JSON.stringify({ name: 'Tom', age: 3, vaccinated: true }) },
  { key: 'cat-luna', value: JSON.stringify({ name: 'Luna', age: 1, vaccinated: false }) },
  { key: 'cat-misty', value: JSON.stringify({ name: 'Misty', age: 7, vaccinated: true }) },
  { key: 'note', value: 'adopt one, get a second half price' },
];
const oldAdoptions = [
  { key: 'a-2019-001', value: JSON.stringify({ cat: 'Felix', family: 'Moreau' }) },
  { key: 'a-2019-002', value: JSON.stringify({ cat: 'Nala', family: 'Okafor' }) },
];

async function seedCatShelter(user: TestUser) {
  const project = await ok<{ id: string; name: string }>(
    s.request('/api/projects', { method: 'POST', token: user.token, json: { name: 'Cat Shelter' } }),
  );
  const feedingLog = Array.from({ length: 120 }, (_, i) => ({
    key: `meal-${String(i).padStart(3, '0')}`,
    value: JSON.stringify({ cat: cats[i % 3]!.key, grams: 40 + (i % 5) * 5 }),
  }));
  for (const [name, items] of [['cats', cats], ['adoptions-2019', oldAdoptions], ['feeding-log', feedingLog]] as const) {
    await ok(s.request(`/api/projects/${project.id}/collections`, { method: 'POST', token: user.token, json: { name } }));
    await ok(
      s.request(`/collections/${project.id}/${name}`, { method: 'POST', token: user.token, headers: { 'x-api-version': '2' }, json: { items } }),
    );
  }
  // Read-only in the console: a workflow saved twice, a server with named, derived and logs-only releases.
  const workflowId = randomUUID();
  const workflowPath = `/api/projects/${project.id}/workflows/${workflowId}`;
  const first = await ok<{ lock_version: number }>(
    s.request(workflowPath, { method: 'PUT', token: user.token, json: { action: 'new', name: 'Intake', definition: { steps: [] } } }),
  );
  const saved = await ok<{ lock_version: number }>(
    s.request(workflowPath, {
      method: 'PUT',
      token: user.token,
      json: { action: 'edit', name: 'Intake', definition: { steps: ['weigh'] }, lock_version: first.lock_version },
    }),
  );
  const server = await ok<{ id: string }>(
    s.request(`/api/projects/${project.id}/servers`, { method: 'POST', token: user.token, json: { name: 'shelter-web' } }),
  );
  for (const release of [{ name: 'api' }, { release_command: '/opt/shelter/bin/feeder' }, {}]) {
    await ok(s.request(`/api/servers/${server.id}/releases`, { method: 'POST', token: user.token, json: release }));
  }
  return { ...project, workflowLockVersion: saved.lock_version };
}

async function newPage(width: number): Promise<{ page: Page; problems: string[] }> {
  const context = await browser!.newContext({ viewport: { width, height: width > 600 ? 900 : 844 }, acceptDownloads: true });
  // Fail in seconds, not the 30 s default, when the console does not show what a step waits for.
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  // The console may talk to its own origin only: anything else is recorded and refused.
  await page.route('**/*', (route) => {
    if (route.request().url().startsWith(s.url)) return route.continue();
    problems.push(`external request: ${route.request().url()}`);
    return route.abort();
  });
  return { page, problems };
}

/** The tag of the focused element once it is `tag`, or whatever has focus when the wait runs out. */
async function focusedTag(page: Page, tag: string): Promise<unknown> {
  const probe = 'document.activeElement && document.activeElement.tagName';
  await page.waitForFunction(`${probe} === ${JSON.stringify(tag)}`, undefined, { timeout: 5000 }).catch(() => undefined);
  return page.evaluate(probe);
}

for (const width of [1280, 390]) {
  browserTest(`the Cat Shelter story at ${width} px`, async (t) => {
    const shot = (name: string) => page.screenshot({ path: path.join(screenshots, `${width}-${name}.png`), fullPage: true });
    const user = await createTestUser(s);
    const project = await seedCatShelter(user);
    const { page, problems } = await newPage(width);

    // Sign in: a wrong token is refused with the reason, the right one opens the projects.
    await page.goto(`${s.url}/console`);
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    await shot('01-sign-in');
    const tokenField = page.getByLabel('Personal access token');
    await tokenField.fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'That token was not accepted' }).waitFor();
    await tokenField.fill(user.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Projects' }).waitFor();
    t.is(await page.evaluate('sessionStorage.length'), 1);

    // The project: collections with counts and sizes.
    await page.getByRole('main').getByRole('link', { name: 'Cat Shelter' }).click();
    await page.getByRole('heading', { level: 1, name: 'Cat Shelter' }).waitFor();
    t.is(await focusedTag(page, 'H1'), 'H1', 'a view change moves focus to its heading');
    const catsRow = page.getByRole('row').filter({ has: page.getByRole('link', { name: 'cats', exact: true }) });
    await catsRow.getByText('4', { exact: true }).waitFor();
    await page.getByRole('row').filter({ hasText: 'adoptions-2019' }).getByText('2', { exact: true }).waitFor();
    const workflow = page.getByRole('region', { name: 'Workflows' }).getByRole('row').filter({ hasText: 'Intake' });
    await workflow.getByText(String(project.workflowLockVersion), { exact: true }).waitFor();
    const releases = page.getByRole('table', { name: 'Releases on shelter-web' });
    await releases.getByRole('row').filter({ hasText: '/opt/shelter/bin/feeder' }).getByRole('rowheader', { name: 'feeder' }).waitFor();
    await releases.getByRole('rowheader', { name: 'api' }).waitFor();
    await releases.getByRole('rowheader', { name: 'none (logs only)' }).waitFor();
    await shot('02-project');

    // The collection: items pretty-printed, filtered by key pattern, downloadable.
    await page.getByRole('link', { name: 'cats', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: /cats/ }).waitFor();
    await page.locator('#items-summary').filter({ hasText: 'Showing 4 items.' }).waitFor();
    const tom = page.getByRole('row').filter({ hasText: 'cat-tom' });
    t.regex((await tom.locator('pre').textContent()) ?? '', /\{\n {2}"name": "Tom",\n {2}"age": 3,/);
    t.is(await page.getByRole('row').filter({ hasText: 'note' }).locator('pre').textContent(), 'adopt one, get a second half price');
    await shot('03-collection');
    await page.getByLabel('Key pattern').fill('cat-*');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.locator('#items-summary').filter({ hasText: 'Showing 3 items matching the filters.' }).waitFor();
    t.is(await page.getByRole('row').filter({ hasText: 'note' }).count(), 0);
    // Dates are the user's local time in the form and absolute instants on the wire.
    await page.getByLabel('Created after').fill(new Date(Date.now() + 86_400_000).toISOString().slice(0, 19));
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.locator('#items-summary').filter({ hasText: 'No items match these filters.' }).waitFor();
    await page.getByRole('button', { name: 'Clear' }).click();
    await page.locator('#items-summary').filter({ hasText: 'Showing 4 items.' }).waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download cats.json' }).click()]);
    t.is(download.suggestedFilename(), 'cats.json');
    const downloaded = JSON.parse(await readFile((await download.path())!, 'utf8')) as Array<{ key: string }>;
    t.deepEqual(downloaded.map((i) => i.key).sort(), cats.map((c) => c.key).sort());

    // Paging through the stream API with its cursor, 50 items at a time.
    await page.getByRole('link', { name: 'Cat Shelter' }).first().click();
    await page.getByRole('link', { name: 'feeding-log', exact: true }).click();
    const summary = page.locator('#items-summary');
    await summary.filter({ hasText: 'Showing 50 items; more are available.' }).waitFor();
    await page.getByRole('button', { name: 'Load more items' }).click();
    await summary.filter({ hasText: 'Showing 100 items; more are available.' }).waitFor();
    await page.getByRole('button', { name: 'Load more items' }).click();
    await summary.filter({ hasText: 'Showing 120 items.' }).waitFor();
    t.true(await page.getByRole('button', { name: 'Load more items' }).isHidden());
    t.is(await page.locator('table.items tbody tr').count(), 120);
    t.is(await page.locator('table.items tbody tr th').last().textContent(), 'meal-119');
    t.is(await page.evaluate('document.activeElement.textContent'), 'meal-100', 'focus stays in the list when the button goes');

    // Provision a sandbox from the console: it opens, with empty copies of the collections.
    await page.getByRole('link', { name: 'Cat Shelter' }).first().click();
    await page.getByRole('heading', { level: 1, name: 'Cat Shelter' }).waitFor();
    await page.getByLabel('Sandbox name').fill('Spring cleanup');
    await page.getByRole('button', { name: 'Provision sandbox' }).click();
    await page.getByRole('heading', { level: 1, name: /Spring cleanup/ }).waitFor();
    await page.getByRole('status').filter({ hasText: 'Sandbox Spring cleanup provisioned' }).waitFor();
    const sandboxCats = page.getByRole('row').filter({ has: page.getByRole('link', { name: 'cats', exact: true }) });
    await sandboxCats.getByText('0', { exact: true }).first().waitFor();

    // In the sandbox: create `volunteer`, rename it `volunteers` from the keyboard,
    // delete `adoptions-2019` (the dialog wants its name typed).
    await page.getByLabel('New collection name').fill('volunteer');
    await page.getByRole('button', { name: 'Create collection' }).click();
    await page.getByRole('link', { name: 'volunteer', exact: true }).waitFor();
    await page.getByLabel('New collection name').fill('no spaces please');
    await page.getByRole('button', { name: 'Create collection' }).click();
    const refusal = page.getByRole('region', { name: 'Collections' }).getByRole('alert');
    await refusal.waitFor(); // the server's own reason, not a generic failure
    t.notRegex((await refusal.textContent()) ?? '', /^The server answered/);
    await page.getByRole('button', { name: 'Rename volunteer' }).focus();
    await page.keyboard.press('Enter');
    const renameDialog = page.getByRole('dialog', { name: 'Rename collection volunteer' });
    const newName = renameDialog.getByLabel('New name');
    t.true(await newName.evaluate((el) => el === (el.ownerDocument as any).activeElement), 'the dialog focuses its field');
    await page.keyboard.press('Escape');
    await renameDialog.waitFor({ state: 'detached' });
    t.is(await page.evaluate('document.activeElement.getAttribute("aria-label")'), 'Rename volunteer', 'Escape returns focus to the button');
    await page.keyboard.press('Enter');
    await newName.fill('cats');
    await page.keyboard.press('Enter');
    await renameDialog.getByRole('alert').waitFor(); // 409: the name is taken, the dialog stays open with the reason
    await newName.fill('volunteers');
    await page.keyboard.press('Enter');
    await renameDialog.waitFor({ state: 'detached' });
    await page.getByRole('link', { name: 'volunteers', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Delete adoptions-2019' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete collection adoptions-2019?' });
    const confirmDelete = dialog.getByRole('button', { name: 'Delete collection' });
    t.true(await confirmDelete.isDisabled(), 'delete stays disabled until the name is typed');
    await dialog.getByLabel('Type adoptions-2019 to confirm').fill('adoptions-201');
    t.true(await confirmDelete.isDisabled());
    await dialog.getByLabel('Type adoptions-2019 to confirm').fill('adoptions-2019');
    await shot('04-sandbox-delete-dialog');
    await confirmDelete.click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByRole('status').filter({ hasText: 'Collection adoptions-2019 deleted.' }).waitFor();
    t.is(await page.getByRole('link', { name: 'adoptions-2019', exact: true }).count(), 0);
    await shot('05-sandbox');

    // The merge preview names what will be lost, and the button says it too.
    await page.getByRole('link', { name: 'Merge into parent…' }).click();
    await page.getByRole('heading', { level: 1, name: 'Merge Spring cleanup into Cat Shelter' }).waitFor();
    const confirmMerge = page.getByRole('button', { name: 'Merge and permanently delete 1 collection (2 items)' });
    await confirmMerge.waitFor();
    const warning = (await page.locator('.merge-warning').textContent()) ?? '';
    t.regex(warning, /adoptions-2019/);
    t.regex(warning, /\b2 items\b/);
    const deleting = page.getByRole('table').filter({ hasText: 'adoptions-2019' });
    await deleting.getByRole('row').filter({ hasText: 'adoptions-2019' }).getByText('2', { exact: true }).waitFor();
    await page.getByRole('region', { name: /Created empty in Cat Shelter \(1\)/ }).getByText('volunteers').waitFor();
    await shot('06-merge-preview');

    await confirmMerge.click();
    await page.getByRole('heading', { name: 'Merge complete' }).waitFor();
    t.is(await focusedTag(page, 'H2'), 'H2', 'the result heading takes focus');
    t.regex(
      (await page.locator('.merge-result').textContent()) ?? '',
      /created 1 collection, deleted 1 collection with 2 items/,
    );
    await shot('07-merge-result');

    // The parent really changed: cats kept its items, volunteers is new and empty, adoptions-2019 is gone.
    const after = await ok<{ collections: Array<{ name: string; item_count: number | string }> }>(
      s.request(`/api/projects/${project.id}/collections`, { token: user.token }),
    );
    t.deepEqual(
      after.collections.map((c) => [c.name, Number(c.item_count)]).sort(),
      [['cats', 4], ['feeding-log', 120], ['volunteers', 0]],
    );

    // Narrow screens reach the project tree through the menu button; Escape closes it.
    if (width < 600) {
      const menu = page.getByRole('button', { name: 'Projects' });
      await menu.click();
      t.is(await menu.getAttribute('aria-expanded'), 'true');
      await page.getByRole('navigation', { name: 'Projects' }).getByRole('link', { name: /Spring cleanup/ }).waitFor();
      await shot('08-menu');
      await page.keyboard.press('Escape');
      t.is(await menu.getAttribute('aria-expanded'), 'false');
    }

    // Sign out forgets the token.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    t.is(await page.evaluate('sessionStorage.length'), 0);

    t.deepEqual(problems, []);
    await page.context().close();
  });
}
