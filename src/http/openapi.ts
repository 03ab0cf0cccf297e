import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { Deps } from './deps.ts';
import { notFound } from './errors.ts';
import { sendStaticAsset, staticAsset, type StaticAsset } from './static-assets.ts';

/**
 * The OpenAPI 3.1 document of every route the router serves: the contract.
 * test/helpers/server.ts validates every response a test receives against it
 * (route, status, content type, body schema) and test/docs/openapi.test.ts
 * holds its path list equal to the router's, so neither can drift.
 *
 * Success schemas say `additionalProperties: false`: a field added to a
 * response without being documented fails the tests that see it.
 */

// ---- a typed subset of OpenAPI 3.1 -------------------------------------------

/** A JSON Schema (2020-12 dialect, as OpenAPI 3.1 uses). */
export type JsonSchema = { [keyword: string]: unknown };
interface Ref {
  $ref: string;
}
interface MediaType {
  schema?: JsonSchema;
}
interface Header {
  description?: string;
  schema: JsonSchema;
}
export interface ResponseObject {
  description: string;
  headers?: Record<string, Header | Ref>;
  content?: Record<string, MediaType>;
}
export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  description?: string;
  schema: JsonSchema;
}
/** Who may call an operation: a role in the addressed project, any personal token, or anyone. */
export type Access = 'read' | 'write' | 'manage' | 'own' | 'user' | 'authenticated' | 'public';
export interface Operation {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  security: Array<Record<string, string[]>>;
  parameters?: Array<Parameter | Ref>;
  requestBody?: { required: boolean; content: Record<string, MediaType> };
  responses: Record<string, ResponseObject | Ref>;
  /** The access the route needs (also spelled out in the description). */
  'x-access': Access;
}
export type Method = 'get' | 'put' | 'post' | 'delete' | 'patch';
export type PathItem = Partial<Record<Method, Operation>> & { parameters?: Array<Parameter | Ref> };
export interface OpenApiDocument {
  openapi: '3.1.0';
  jsonSchemaDialect: string;
  info: { title: string; version: string; description: string };
  tags: Array<{ name: string; description: string }>;
  paths: Record<string, PathItem>;
  components: {
    schemas: Record<string, JsonSchema>;
    parameters: Record<string, Parameter>;
    headers: Record<string, Header>;
    securitySchemes: Record<string, { type: 'http'; scheme: 'bearer'; bearerFormat: string; description: string }>;
  };
}

// ---- building blocks ---------------------------------------------------------

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const uuid: JsonSchema = { type: 'string', format: 'uuid' };
const timestamp: JsonSchema = { type: 'string', format: 'date-time' };
const nullable = (s: JsonSchema): JsonSchema => ({ oneOf: [s, { type: 'null' }] });
const int: JsonSchema = { type: 'integer', minimum: 0 };
/** A closed object: every property listed is required unless named in `optional`. */
function object(properties: Record<string, JsonSchema>, optional: string[] = [], description?: string): JsonSchema {
  return {
    type: 'object',
    ...(description ? { description } : {}),
    required: Object.keys(properties).filter((k) => !optional.includes(k)),
    properties,
    additionalProperties: false,
  };
}
const list = (key: string, item: JsonSchema): JsonSchema => object({ [key]: { type: 'array', items: item } });

const requestIdHeader = { $ref: '#/components/headers/RequestId' };

function json(description: string, schema: JsonSchema, extraHeaders: Record<string, Header> = {}): ResponseObject {
  return { description, headers: { 'x-request-id': requestIdHeader, ...extraHeaders }, content: { 'application/json': { schema } } };
}
function empty(description: string): ResponseObject {
  return { description, headers: { 'x-request-id': requestIdHeader } };
}
function error(description: string, headers: Record<string, Header> = {}): ResponseObject {
  return json(description, ref('Error'), headers);
}

const retryAfter: Header = { description: 'Seconds to wait before retrying.', schema: { type: 'string', pattern: '^\\d+$' } };

/** The generic meaning of each error status; a route may add its own words. */
const errorText: Record<number, string> = {
  400: '`bad_request`: the body is not JSON or not valid data of its `Content-Encoding`, a query parameter is unknown or malformed, the query string or the path is not valid percent-encoded UTF-8, or a header or cursor is malformed.',
  401: '`unauthorized`: no bearer token, or one that is malformed, expired, revoked or not ours (`WWW-Authenticate: Bearer`).',
  403: '`forbidden`: the token reaches the project but its role is too small (or a run token on a personal-token route).',
  404: '`not_found`: no such thing, or a project the token cannot reach (its existence is never revealed), or a malformed id.',
  409: '`conflict`: the request conflicts with the current state.',
  413: '`payload_too_large`: the body is larger than `SANDBAR_BODY_LIMIT_BYTES` (10 MB by default).',
  415: '`unsupported_media_type`: a request body that is not `application/json`, or a content encoding we do not accept.',
  422: '`invalid`: the JSON body is not an object, not valid UTF-8, has a string that is not well-formed Unicode or a `__proto__` key, has the wrong shape (unknown fields included), or a value fails a database check.',
  503: '`database_unavailable`, `database_read_only` (a write while the database takes none: a standby, or maintenance), `busy` (serialization failure or deadlock after retries, lock timeout, or every long-pool slot held by streams, merges and large deletes) or `timeout` (statement timeout); retry after `Retry-After`.',
};

interface OperationSpec {
  id: string;
  tag: string;
  summary: string;
  description?: string;
  access: Access;
  /** Path parameters, in path order. */
  params?: Parameter[];
  query?: Parameter[];
  headers?: Array<Parameter | Ref>;
  body?: JsonSchema;
  /** The body may be left out (parseBody reads none as `{}`, which every field being optional accepts). */
  bodyOptional?: boolean;
  /** Success responses by status. */
  ok: Record<number, ResponseObject>;
  /** Error statuses this route can answer beyond the automatic ones, with route-specific words (or '' for the generic ones). */
  errors?: Record<number, string>;
  /** Whether the route queries the database (then 503 can happen). Default true. */
  db?: boolean;
}

const accessText: Record<Access, string> = {
  read: 'Needs a viewer role (or more) in the project, or a run token of it.',
  write: 'Needs an editor role (or more) in the project, or a run token of it.',
  manage: 'Needs an admin or owner role in the project.',
  own: 'Needs the owner role in the project.',
  user: 'Needs a personal access token (a run token answers 403).',
  authenticated: 'Needs any valid token: a personal access token or a run token.',
  public: 'No token needed.',
};

function operation(method: Method, spec: OperationSpec): Operation {
  const errors: Record<number, string> = {};
  const add = (status: number, text = '') => {
    errors[status] = [errors[status], text].filter(Boolean).join(' ');
  };
  const hasBody = method === 'post' || method === 'put' || method === 'patch';
  // Every route that needs a token refuses a query parameter it does not take (noQuery, parseQuery);
  // public routes ignore the query string.
  if (spec.access !== 'public') {
    add(400);
    add(401);
  }
  if (spec.access === 'user' || spec.access === 'write' || spec.access === 'manage' || spec.access === 'own') add(403);
  if (spec.access !== 'public' && spec.access !== 'user' && spec.access !== 'authenticated') add(404);
  // Any POST/PUT/PATCH body goes through the JSON body parser, whether the route reads it or not.
  if (hasBody) {
    add(400);
    add(413);
    add(415);
    add(422);
  }
  // The path is decoded before routing; only a parameter segment can carry a malformed escape to a route.
  if (spec.params?.length) add(400);
  if (spec.body) add(422);
  if (spec.db !== false) add(503);
  for (const [status, text] of Object.entries(spec.errors ?? {})) add(Number(status), text);

  const responses: Record<string, ResponseObject> = {};
  for (const [status, response] of Object.entries(spec.ok)) responses[status] = response;
  for (const status of Object.keys(errors).map(Number).sort()) {
    const text = [errorText[status], errors[status]].filter(Boolean).join(' ');
    responses[String(status)] = error(text, status === 503 ? { 'retry-after': retryAfter } : status === 401 ? { 'www-authenticate': { schema: { type: 'string' } } } : {});
  }
  const parameters = [...(spec.params ?? []), ...(spec.query ?? []), ...(spec.headers ?? [])];
  return {
    operationId: spec.id,
    summary: spec.summary,
    description: [spec.description, `**Access:** ${accessText[spec.access]}`].filter(Boolean).join('\n\n'),
    tags: [spec.tag],
    security: spec.access === 'public' ? [] : [{ bearer: [] }],
    ...(parameters.length ? { parameters } : {}),
    ...(spec.body ? { requestBody: { required: !spec.bodyOptional, content: { 'application/json': { schema: spec.body } } } } : {}),
    responses,
    'x-access': spec.access,
  };
}

const pathParam = (name: string, description: string, schema: JsonSchema = uuid): Parameter => ({
  name,
  in: 'path',
  required: true,
  description,
  schema,
});
const queryParam = (name: string, description: string, schema: JsonSchema): Parameter => ({ name, in: 'query', description, schema });

const projectId = (name = 'id') => pathParam(name, 'A project (or sandbox) id. A malformed id answers 404.');
const collectionNameParam = pathParam('name', 'A collection name (lowercase slug, ≤ 255 characters).', { type: 'string' });
const itemKeyParam = pathParam('key', 'An item key (1–255 characters), percent-encoded.', { type: 'string' });

const dateFilter = (name: string, what: string) =>
  queryParam(name, `Only items ${what} (ISO-8601 date-time with an offset within ±15:59, as PostgreSQL allows; after = inclusive, before = exclusive).`, { type: 'string' });
const dateFilters = [
  dateFilter('created_after', 'created at or after this instant'),
  dateFilter('created_before', 'created before this instant'),
  dateFilter('updated_after', 'updated at or after this instant'),
  dateFilter('updated_before', 'updated before this instant'),
];
const keyPattern = queryParam('key', 'A key pattern: `*` matches any characters, everything else (including `%` and `_`) matches itself.', {
  type: 'string',
  maxLength: 1000,
});
const streamQuery = [
  keyPattern,
  queryParam('limit', 'Items per page: default 1000; larger values are served as 10,000 with a cursor.', { type: 'string', pattern: '^\\d{1,20}$' }),
  queryParam('cursor', 'The `cursor` of the previous page (opaque).', { type: 'string', maxLength: 64 }),
  ...dateFilters,
];
const v1ProjectQuery = queryParam('project_id', 'v1 only: look the name up in this project only (disambiguates a name several reachable projects have).', uuid);
const apiVersion = { $ref: '#/components/parameters/ApiVersion' };

const v1Note =
  'v1 (`x-api-version` absent or `1`): the collection is found by name among the projects the token reaches; a name two of them have answers 409 (add `?project_id=`). ';
const v2Note = 'v2 (`x-api-version: 2`): the project is named in the path; a project the token cannot reach answers 403. ';
const versionErrors = { 400: 'An `x-api-version` other than 1 or 2.' };

// ---- the document ------------------------------------------------------------

const storedDefinition =
  'PostgreSQL\'s own text of the stored jsonb: numbers exactly as saved (`1e400` written out in full, `1.0` as `1.0`). A JSON parser that reads numbers as doubles rounds them.';

function buildDocument(): OpenApiDocument {
  const paths: Record<string, PathItem> = {};
  const route = (p: string, method: Method, spec: OperationSpec) => {
    paths[p] = { ...paths[p], [method]: operation(method, spec) };
  };

  // ---- health ----
  route('/healthz', 'get', {
    id: 'healthz',
    tag: 'health',
    summary: 'Liveness: the process answers (never touches the database)',
    access: 'public',
    db: false,
    ok: { 200: json('Alive.', ref('Health')) },
  });
  route('/readyz', 'get', {
    id: 'readyz',
    tag: 'health',
    summary: 'Readiness: the database answers and every committed migration is applied',
    access: 'public',
    db: false,
    ok: { 200: json('Ready.', ref('Ready')) },
    errors: { 503: '`not_ready`: the database is unreachable, or its migrations are not current (`sandbar migrate`).' },
  });
  route('/metrics', 'get', {
    id: 'metrics',
    tag: 'health',
    summary: 'Prometheus metrics (text exposition format)',
    description: 'Metric names are listed in docs/operations.md.',
    access: 'public',
    db: false,
    ok: { 200: { description: 'Metrics.', content: { 'text/plain': { schema: { type: 'string' } } } } },
  });

  // ---- tokens ----
  route('/api/tokens', 'post', {
    id: 'createToken',
    tag: 'tokens',
    summary: 'Issue a personal access token for yourself',
    description: 'The token text is returned once and never stored. Default lifetime 90 days.',
    access: 'user',
    body: object(
      {
        name: { type: 'string', maxLength: 255 },
        expires_in_days: { type: 'integer', minimum: 1, maximum: 3650 },
        never_expires: { type: 'boolean' },
      },
      ['name', 'expires_in_days', 'never_expires'],
    ),
    bodyOptional: true,
    ok: { 201: json('Issued.', ref('IssuedToken')) },
  });
  route('/api/tokens', 'get', {
    id: 'listTokens',
    tag: 'tokens',
    summary: 'List your personal access tokens (never their text)',
    access: 'user',
    ok: { 200: json('Your tokens.', list('tokens', ref('AccessToken'))) },
  });
  route('/api/tokens/{jti}', 'delete', {
    id: 'revokeToken',
    tag: 'tokens',
    summary: 'Revoke one of your personal access tokens',
    description: 'Takes effect at once on this replica, within 5 s on others.',
    access: 'user',
    params: [pathParam('jti', 'The token id (`jti`).')],
    ok: { 204: empty('Revoked (revoking twice is fine).') },
    errors: { 404: '`not_found`: no such token of yours.' },
  });

  // ---- projects, members, sandboxes, runs ----
  route('/api/projects', 'post', {
    id: 'createProject',
    tag: 'projects',
    summary: 'Create a root project; you become its owner',
    access: 'user',
    body: ref('ProjectInput'),
    ok: { 201: json('Created.', ref('Project')) },
  });
  route('/api/projects', 'get', {
    id: 'listProjects',
    tag: 'projects',
    summary: 'List the projects your token reaches, with your role in each',
    description: 'A run token lists its run\'s project (as editor).',
    access: 'authenticated',
    ok: { 200: json('Projects.', list('projects', ref('ProjectWithRole'))) },
  });
  route('/api/projects/{id}', 'get', {
    id: 'getProject',
    tag: 'projects',
    summary: 'Read a project, with your role in it',
    access: 'read',
    params: [projectId()],
    ok: { 200: json('The project.', ref('ProjectWithRole')) },
  });
  route('/api/projects/{id}', 'delete', {
    id: 'deleteProject',
    tag: 'projects',
    summary: 'Delete a project with its sandboxes and all their data',
    description: 'A hard, cascading delete (docs/adr/0005-project-deletion.md).',
    access: 'own',
    params: [projectId()],
    ok: { 204: empty('Deleted.') },
  });
  route('/api/projects/{id}/members', 'get', {
    id: 'listMembers',
    tag: 'projects',
    summary: 'List the members of a project',
    access: 'read',
    params: [projectId()],
    ok: { 200: json('Members, owners first.', list('members', ref('Member'))) },
  });
  route('/api/projects/{id}/members', 'post', {
    id: 'setMember',
    tag: 'projects',
    summary: 'Add a member, or change a member\'s role',
    description: 'Only owners grant or take away ownership; a project keeps at least one owner.',
    access: 'manage',
    params: [projectId()],
    body: object({ email: { type: 'string', minLength: 3, maxLength: 254 }, role: ref('Role') }),
    ok: { 200: json('Role changed.', ref('Member')), 201: json('Added.', ref('Member')) },
    errors: {
      403: '`forbidden`: granting or changing ownership needs an owner.',
      404: '`user_not_found`: no user has that email.',
      409: '`last_owner`: the project would have no owner left.',
    },
  });
  route('/api/projects/{id}/members/{user_id}', 'delete', {
    id: 'removeMember',
    tag: 'projects',
    summary: 'Remove a member',
    access: 'manage',
    params: [projectId(), pathParam('user_id', 'The member\'s user id.')],
    ok: { 204: empty('Removed.') },
    errors: {
      403: '`forbidden`: removing an owner needs an owner.',
      404: 'Also: not a member.',
      409: '`last_owner`: the project would have no owner left.',
    },
  });
  route('/api/projects/{id}/sandboxes', 'post', {
    id: 'createSandbox',
    tag: 'sandboxes',
    summary: 'Provision a sandbox of a project',
    description: 'Copies the parent\'s members (you become owner) and its collection names, empty; never data.',
    access: 'manage',
    params: [projectId()],
    body: ref('ProjectInput'),
    ok: { 201: json('Provisioned.', ref('Project')) },
  });
  route('/api/projects/{id}/runs', 'post', {
    id: 'createRun',
    tag: 'projects',
    summary: 'Start a run and get its run token',
    description:
      'The run token reaches exactly this project, as an editor, until it expires (`SANDBAR_RUN_TOKEN_TTL_SECONDS`). Needs a personal access token: a run token gets 403, so that it cannot renew itself. `workflow_id`, when given, must be a workflow of this project (422 otherwise).',
    access: 'write',
    params: [projectId()],
    body: object({ workflow_id: nullable(uuid) }, ['workflow_id']),
    bodyOptional: true,
    ok: { 201: json('Started.', ref('Run')) },
  });

  // ---- sandboxes: merge ----
  const sandboxParam = pathParam('sandbox_id', 'The sandbox to merge from.');
  route('/api/projects/{sandbox_id}/merge-preview', 'get', {
    id: 'mergePreview',
    tag: 'sandboxes',
    summary: 'What merging the sandbox would do, without doing it',
    description: 'Needs read access on the sandbox and on the target.',
    access: 'read',
    params: [sandboxParam],
    query: [queryParam('target', 'An ancestor to merge into; default the parent.', uuid)],
    ok: { 200: json('The preview.', ref('MergePreview')) },
    errors: {
      400: 'Also: an unknown query parameter or a malformed `target`.',
      404: 'Also: a target the token cannot reach.',
      422: '`not_a_sandbox` (a root project) or `target_not_ancestor`.',
    },
  });
  route('/api/projects/{sandbox_id}/merge', 'post', {
    id: 'mergeSandbox',
    tag: 'sandboxes',
    summary: 'Merge a sandbox\'s collection names into an ancestor (items never move)',
    description:
      'Names only in the sandbox are created empty in the target; names only in the target are deleted from it with all their items. Needs read access on the sandbox and manage access on the target.',
    access: 'manage',
    params: [sandboxParam],
    body: object({ target_id: nullable(uuid) }, ['target_id']),
    bodyOptional: true,
    ok: { 200: json('Merged.', ref('MergeResult')) },
    errors: { 404: 'Also: a target the token cannot reach.', 422: 'Also: `not_a_sandbox` (a root project) or `target_not_ancestor`.' },
  });

  // ---- collections: management API ----
  const collectionsPath = '/api/projects/{id}/collections';
  route(collectionsPath, 'post', {
    id: 'createCollection',
    tag: 'collections',
    summary: 'Create a collection',
    access: 'manage',
    params: [projectId()],
    body: ref('CollectionInput'),
    ok: { 201: json('Created.', ref('Collection')) },
    errors: { 409: 'The project already has a collection of that name.', 422: 'Also: a name that is not a lowercase slug.' },
  });
  route(collectionsPath, 'get', {
    id: 'listCollections',
    tag: 'collections',
    summary: 'List a project\'s collections with item counts and sizes',
    access: 'read',
    params: [projectId()],
    ok: { 200: json('Collections by name.', list('collections', ref('Collection'))) },
  });
  route(`${collectionsPath}/{name}`, 'patch', {
    id: 'renameCollection',
    tag: 'collections',
    summary: 'Rename a collection',
    access: 'manage',
    params: [projectId(), collectionNameParam],
    body: ref('CollectionInput'),
    ok: { 200: json('Renamed.', ref('Collection')) },
    errors: { 404: 'Also: no such collection.', 409: 'The project already has a collection of the new name.' },
  });
  route(`${collectionsPath}/{name}`, 'delete', {
    id: 'deleteCollection',
    tag: 'collections',
    summary: 'Delete a collection and all its items',
    description: 'Items are deleted in batches of 10,000, each its own transaction; then the collection, with whatever was written meanwhile. Item writes that arrive while that last step waits for the writes in progress wait for it, then get 404, so a busy collection can always be deleted.',
    access: 'manage',
    params: [projectId(), collectionNameParam],
    ok: { 204: empty('Deleted.') },
    errors: { 404: 'Also: no such collection.' },
  });
  route(`${collectionsPath}/{name}/download`, 'get', {
    id: 'downloadCollection',
    tag: 'collections',
    summary: 'Download every item of a collection as one JSON array (streamed)',
    description: 'A chunked stream read at the client\'s pace; `Content-Disposition: attachment; filename="<name>.json"`.',
    access: 'read',
    params: [projectId(), collectionNameParam],
    ok: {
      200: json('A JSON array of items, in insertion order.', { type: 'array', items: ref('Item') }, {
        'content-disposition': { schema: { type: 'string', pattern: '^attachment; filename=' } },
      }),
    },
    errors: { 404: 'Also: no such collection.' },
  });

  // ---- collections: data API (Lightning-compatible) ----
  // v1 /collections/:name[/:key] and v2 /collections/:project_id/:name[/:key] share
  // the two-segment shape, so that path is one entry whose meaning the header picks.
  const dataTag = 'collections data API';
  const v1Name = pathParam('name', 'The collection name.', { type: 'string' });
  const first = pathParam('name_or_project_id', 'v1: the collection name. v2: the project id.', { type: 'string' });
  const second = pathParam('key_or_name', 'v1: the item key. v2: the collection name.', { type: 'string' });
  const v2Params = [pathParam('project_id', 'The project id.', { type: 'string' }), pathParam('name', 'The collection name.', { type: 'string' }), itemKeyParam];
  const upsertBody = object({ items: { type: 'array', maxItems: 100_000, items: ref('ItemInput') } });
  const itemOk = json('The item.', ref('Item'));
  const missingItem = empty('No item with that key.');
  const page = json('A page of items (streamed) and the cursor of the next page, null on the last.', ref('ItemPage'));

  route('/collections/{name}', 'get', {
    id: 'streamItemsV1',
    tag: dataTag,
    summary: 'v1: stream a page of items',
    description: `${v1Note}With \`x-api-version: 2\` this path answers 404.`,
    access: 'read',
    params: [v1Name],
    query: [...streamQuery, v1ProjectQuery],
    headers: [apiVersion],
    ok: { 200: page },
    errors: { ...versionErrors, 404: 'Also: no such collection in the projects the token reaches.', 409: '`conflict`: several reachable projects have this name.' },
  });
  route('/collections/{name}', 'post', {
    id: 'upsertItemsV1',
    tag: dataTag,
    summary: 'v1: insert or replace many items',
    description: `${v1Note}With \`x-api-version: 2\` this path answers 404.`,
    access: 'write',
    params: [v1Name],
    query: [v1ProjectQuery],
    headers: [apiVersion],
    body: upsertBody,
    ok: { 200: json('How many were written.', ref('UpsertResult')) },
    errors: { ...versionErrors, 404: 'Also: no such collection.', 409: '`conflict`: several reachable projects have this name.', 422: 'Also: `duplicate_key` (a key twice in one body; body has `upserted: 0`).' },
  });
  route('/collections/{name}', 'delete', {
    id: 'deleteItemsV1',
    tag: dataTag,
    summary: 'v1: delete the items matching a key pattern and date filters (all when none)',
    description: `${v1Note}With \`x-api-version: 2\` this path answers 404.`,
    access: 'write',
    params: [v1Name],
    query: [keyPattern, ...dateFilters, v1ProjectQuery],
    headers: [apiVersion],
    ok: { 200: json('How many were deleted.', ref('DeleteResult')) },
    errors: { ...versionErrors, 404: 'Also: no such collection.', 409: '`conflict`: several reachable projects have this name.' },
  });
  route('/collections/{name_or_project_id}/{key_or_name}', 'get', {
    id: 'getItemV1OrStreamItemsV2',
    tag: dataTag,
    summary: 'v1: read one item · v2: stream a page of items',
    description: `${v1Note}Answers the item, or 204 when the key is absent. ${v2Note}Answers a page like v1's \`GET /collections/{name}\` (same query parameters, without \`project_id\`).`,
    access: 'read',
    params: [first, second],
    query: [...streamQuery, v1ProjectQuery],
    headers: [apiVersion],
    ok: { 200: json('v1: the item. v2: a page of items (streamed).', { oneOf: [ref('Item'), ref('ItemPage')] }), 204: missingItem },
    errors: {
      ...versionErrors,
      403: 'v2: the token does not reach the project.',
      404: 'Also: no such collection.',
      409: 'v1: several reachable projects have this name.',
    },
  });
  route('/collections/{name_or_project_id}/{key_or_name}', 'put', {
    id: 'putItemV1',
    tag: dataTag,
    summary: 'v1: insert or replace one item',
    description: `${v1Note}With \`x-api-version: 2\` this path answers 404 (v2 puts to \`/collections/{project_id}/{name}/{key}\`).`,
    access: 'write',
    params: [first, second],
    query: [v1ProjectQuery],
    headers: [apiVersion],
    body: ref('ItemValue'),
    ok: { 200: json('Written.', ref('UpsertResult')) },
    errors: { ...versionErrors, 404: 'Also: no such collection.', 409: 'Several reachable projects have this name.', 422: 'Also: a key longer than 255 characters.' },
  });
  route('/collections/{name_or_project_id}/{key_or_name}', 'post', {
    id: 'upsertItemsV2',
    tag: dataTag,
    summary: 'v2: insert or replace many items',
    description: `${v2Note}With v1 this path answers 404.`,
    access: 'write',
    params: [first, second],
    headers: [apiVersion],
    body: upsertBody,
    ok: { 200: json('How many were written.', ref('UpsertResult')) },
    errors: { ...versionErrors, 403: 'The token does not reach the project.', 404: 'Also: no such collection.', 422: 'Also: `duplicate_key` (a key twice in one body; body has `upserted: 0`).' },
  });
  route('/collections/{name_or_project_id}/{key_or_name}', 'delete', {
    id: 'deleteItemV1OrItemsV2',
    tag: dataTag,
    summary: 'v1: delete one item · v2: delete the items matching a key pattern and date filters',
    description: `${v1Note}Deletes the item (\`deleted\`: 0 when it was absent). ${v2Note}Deletes like v1's \`DELETE /collections/{name}\`.`,
    access: 'write',
    params: [first, second],
    query: [keyPattern, ...dateFilters, v1ProjectQuery],
    headers: [apiVersion],
    ok: { 200: json('How many were deleted.', ref('DeleteResult')) },
    errors: { ...versionErrors, 403: 'v2: the token does not reach the project.', 404: 'Also: no such collection.', 409: 'v1: several reachable projects have this name.' },
  });
  route('/collections/{project_id}/{name}/{key}', 'get', {
    id: 'getItemV2',
    tag: dataTag,
    summary: 'v2: read one item',
    description: `${v2Note}With v1 this path answers 404.`,
    access: 'read',
    params: v2Params,
    headers: [apiVersion],
    ok: { 200: itemOk, 204: missingItem },
    errors: { ...versionErrors, 403: 'The token does not reach the project.', 404: 'Also: no such collection.' },
  });
  route('/collections/{project_id}/{name}/{key}', 'put', {
    id: 'putItemV2',
    tag: dataTag,
    summary: 'v2: insert or replace one item',
    description: `${v2Note}With v1 this path answers 404.`,
    access: 'write',
    params: v2Params,
    headers: [apiVersion],
    body: ref('ItemValue'),
    ok: { 200: json('Written.', ref('UpsertResult')) },
    errors: { ...versionErrors, 403: 'The token does not reach the project.', 404: 'Also: no such collection.', 422: 'Also: a key longer than 255 characters.' },
  });
  route('/collections/{project_id}/{name}/{key}', 'delete', {
    id: 'deleteItemV2',
    tag: dataTag,
    summary: 'v2: delete one item',
    description: `${v2Note}With v1 this path answers 404.`,
    access: 'write',
    params: v2Params,
    headers: [apiVersion],
    ok: { 200: json('How many were deleted (0 or 1).', ref('DeleteResult')) },
    errors: { ...versionErrors, 403: 'The token does not reach the project.', 404: 'Also: no such collection.' },
  });

  // ---- workflows ----
  const workflowsPath = '/api/projects/{project_id}/workflows';
  const wfParams = [projectId('project_id'), pathParam('id', 'The workflow id (chosen by the client). A malformed id answers 404.')];
  const wrongProject = { 403: '`wrong_project`: the id is another project\'s workflow (only to a token that reaches that project).' };
  route(workflowsPath, 'get', {
    id: 'listWorkflows',
    tag: 'workflows',
    summary: 'List a project\'s workflows',
    access: 'read',
    params: [projectId('project_id')],
    query: [queryParam('include_deleted', 'Include soft-deleted workflows.', { type: 'string', enum: ['true', 'false'] })],
    ok: { 200: json('Workflows by name.', list('workflows', ref('WorkflowSummary'))) },
    errors: { 400: 'An unknown or malformed query parameter.' },
  });
  route(`${workflowsPath}/{id}`, 'get', {
    id: 'getWorkflow',
    tag: 'workflows',
    summary: 'Read a workflow\'s draft, or one of its snapshots',
    access: 'read',
    params: wfParams,
    query: [queryParam('version', 'A snapshot version to read instead of the draft.', { type: 'string', pattern: '^\\d{1,9}$' })],
    ok: { 200: json('The workflow (kind `existing`: the draft; kind `version`: the snapshot).', ref('ResolvedWorkflow')) },
    errors: { 400: 'An unknown or malformed query parameter.', ...wrongProject, 404: '`workflow_not_found`, `snapshot_not_found`.' },
  });
  route(`${workflowsPath}/{id}`, 'put', {
    id: 'saveWorkflow',
    tag: 'workflows',
    summary: 'Save a workflow (create with action `new`, update with `edit`)',
    description:
      'Idempotent by client-chosen id: a retried `new` whose first attempt landed becomes an update. `edit` must send the current `lock_version`; a `new` reconciled to an existing row must send it or have it be 1.',
    access: 'write',
    params: wfParams,
    body: ref('WorkflowInput'),
    ok: { 200: json('Updated (kind `existing`).', ref('SavedWorkflow')), 201: json('Created (kind `new`).', ref('SavedWorkflow')) },
    errors: {
      ...wrongProject,
      404: '`workflow_not_found` (an edit of an unknown id).',
      409: '`stale_workflow` (body has the current `lock_version`), `workflow_deleted`, `workflow_name_taken`.',
      422: 'Also: `invalid_action`, `lock_version_required`.',
    },
  });
  route(`${workflowsPath}/{id}`, 'delete', {
    id: 'deleteWorkflow',
    tag: 'workflows',
    summary: 'Soft-delete a workflow (idempotent; its name becomes free)',
    access: 'write',
    params: wfParams,
    ok: { 204: empty('Deleted.') },
    errors: { ...wrongProject, 404: '`workflow_not_found`.' },
  });
  route(`${workflowsPath}/{id}/reset`, 'post', {
    id: 'resetWorkflow',
    tag: 'workflows',
    summary: 'Discard the draft: restore the newest snapshot',
    access: 'write',
    params: wfParams,
    ok: { 200: json('The restored workflow.', ref('Workflow')) },
    errors: { ...wrongProject, 404: '`workflow_not_found`, `snapshot_not_found`.', 409: '`workflow_deleted`.' },
  });

  // ---- fleet ----
  const serversPath = '/api/projects/{project_id}/servers';
  const serverParam = pathParam('server_id', 'A server id. A server in a project the token cannot reach answers 404.');
  const handleConflict = {
    409: '`conflict`: another release on the server already has this effective handle (body adds `effective_handle` and `conflicting_release_id`).',
  };
  route(serversPath, 'post', {
    id: 'createServer',
    tag: 'fleet',
    summary: 'Create a server (a deploy target)',
    access: 'manage',
    params: [projectId('project_id')],
    body: object({ name: { type: 'string', minLength: 1, maxLength: 255 } }),
    ok: { 201: json('Created.', ref('Server')) },
    errors: { 409: 'The project already has a server of that name.' },
  });
  route(serversPath, 'get', {
    id: 'listServers',
    tag: 'fleet',
    summary: 'List a project\'s servers',
    access: 'read',
    params: [projectId('project_id')],
    ok: { 200: json('Servers by name.', list('servers', ref('Server'))) },
  });
  route('/api/servers/{server_id}/releases', 'post', {
    id: 'createRelease',
    tag: 'fleet',
    summary: 'Create a release on a server',
    access: 'write',
    params: [serverParam],
    body: ref('ReleaseInput'),
    bodyOptional: true,
    ok: { 201: json('Created.', ref('Release')) },
    errors: handleConflict,
  });
  route('/api/servers/{server_id}/releases', 'get', {
    id: 'listReleases',
    tag: 'fleet',
    summary: 'List a server\'s releases',
    access: 'read',
    params: [serverParam],
    ok: { 200: json('Releases by effective handle (logs-only releases last).', list('releases', ref('Release'))) },
  });
  // GET addresses a release by handle, PATCH and DELETE by id: one path template (OpenAPI allows no two of the same shape).
  const releasePath = '/api/servers/{server_id}/releases/{handle_or_id}';
  route(releasePath, 'get', {
    id: 'getRelease',
    tag: 'fleet',
    summary: 'Read a release by its effective handle',
    access: 'read',
    params: [serverParam, pathParam('handle_or_id', 'The effective handle: the release\'s name, else the basename of its release command.', { type: 'string' })],
    ok: { 200: json('The release.', ref('Release')) },
    errors: { 404: 'Also: no release with that handle.' },
  });
  route(releasePath, 'patch', {
    id: 'updateRelease',
    tag: 'fleet',
    summary: 'Change a release\'s name and/or release command',
    access: 'write',
    params: [serverParam, pathParam('handle_or_id', 'The release id (not its handle).', uuid)],
    body: { ...ref('ReleaseInput'), minProperties: 1 },
    ok: { 200: json('Updated.', ref('Release')) },
    errors: { ...handleConflict, 404: 'Also: no such release on this server.' },
  });
  route(releasePath, 'delete', {
    id: 'deleteRelease',
    tag: 'fleet',
    summary: 'Delete a release',
    access: 'write',
    params: [serverParam, pathParam('handle_or_id', 'The release id (not its handle).', uuid)],
    ok: { 204: empty('Deleted.') },
    errors: { 404: 'Also: no such release on this server.' },
  });

  // ---- the web console (static files) ----
  const html = { 'text/html': { schema: { type: 'string' } } };
  const notModified = { description: 'Unchanged since the `If-None-Match` ETag.' };
  for (const p of ['/console', '/console/']) {
    route(p, 'get', {
      id: p === '/console' ? 'console' : 'consoleSlash',
      tag: 'console',
      summary: 'The web console page',
      access: 'public',
      db: false,
      ok: { 200: { description: 'The page.', content: html }, 304: notModified },
    });
  }
  route('/console/assets/{file}', 'get', {
    id: 'consoleAsset',
    tag: 'console',
    summary: 'A web console asset',
    access: 'public',
    db: false,
    params: [pathParam('file', 'A file name from the console\'s assets directory.', { type: 'string' })],
    ok: {
      200: {
        description: 'The file.',
        content: Object.fromEntries(['text/javascript', 'text/css', 'image/svg+xml', 'image/png', 'image/x-icon'].map((t) => [t, { schema: { type: 'string' } }])),
      },
      304: notModified,
    },
    errors: { 404: '`not_found`: no such asset.' },
  });

  // ---- this document and its viewer ----
  route('/openapi.json', 'get', {
    id: 'openapi',
    tag: 'docs',
    summary: 'This OpenAPI 3.1 document',
    access: 'public',
    db: false,
    ok: { 200: { description: 'The document.', content: { 'application/json': { schema: { type: 'object', required: ['openapi', 'paths'], properties: { openapi: { const: '3.1.0' }, paths: { type: 'object' } } } } } } },
  });
  route('/docs', 'get', {
    id: 'docs',
    tag: 'docs',
    summary: 'This document, rendered (Swagger UI, served locally)',
    access: 'public',
    db: false,
    ok: { 200: { description: 'The viewer page.', content: html }, 304: notModified },
  });
  route('/docs/assets/{file}', 'get', {
    id: 'docsAsset',
    tag: 'docs',
    summary: 'A file of the viewer',
    access: 'public',
    db: false,
    params: [pathParam('file', 'One of the viewer\'s files.', { type: 'string' })],
    ok: {
      200: {
        description: 'The file.',
        content: Object.fromEntries(['text/javascript', 'text/css', 'image/png'].map((t) => [t, { schema: { type: 'string' } }])),
      },
      304: notModified,
    },
    errors: { 404: '`not_found`: no such file.' },
  });

  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    info: {
      title: 'sandbar',
      version: '0.1.0',
      description: [
        'Projects and sandboxes, collections (wire-compatible with OpenFn Lightning\'s collections API), workflows and fleet releases, with the rules in PostgreSQL.',
        'Every error is JSON `{"error": "<code>", "message": "<text>"}`, sometimes with more fields (docs/errors.md lists every code). Every response carries `x-request-id` (yours, when you send a well-formed one).',
        'A query parameter a route does not take answers 400 `bad_request` on every route that needs a token; the public routes (health, metrics, this document, the console) ignore the query string.',
        'A path no route serves answers 404 `not_found`; a method a path does not serve answers 405 `method_not_allowed` with `Allow`. A path that is not valid percent-encoded UTF-8 (`%FF`) answers 400 `bad_request` wherever it was sent. A POST, PUT or PATCH body is parsed before routing, so a body that is not JSON or in a `Content-Encoding` other than identity, gzip, deflate or br (415), too large (413), malformed (400), or valid JSON but not an object in well-formed UTF-8 (422) is refused wherever it was sent. What the HTTP server refuses before any route sees it answers the same JSON error shape on any path: 400 `bad_request` (not HTTP/1.1), 408 `request_timeout`, 417 `expectation_failed` (an `Expect` other than `100-continue`) and 431 `headers_too_large`. A bug answers 500 `internal` with a `request_id` to find it in the logs; no documented request should ever get one.',
        'Authenticate with `Authorization: Bearer <token>`. A project the token cannot reach answers 404 (its existence is never revealed); too small a role answers 403.',
      ].join('\n\n'),
    },
    tags: [
      { name: 'health', description: 'Liveness, readiness and metrics.' },
      { name: 'tokens', description: 'Your personal access tokens.' },
      { name: 'projects', description: 'Projects, members and runs.' },
      { name: 'sandboxes', description: 'Provisioning sandboxes and merging them back (names only, never data).' },
      { name: 'collections', description: 'The collections management API.' },
      {
        name: dataTag,
        description:
          'The Lightning-compatible data API. `x-api-version` picks the addressing: v1 (default) by name among the projects the token reaches, v2 by project id and name. Item values are opaque strings.',
      },
      { name: 'workflows', description: 'Workflows saved by client-chosen id with optimistic locking.' },
      { name: 'fleet', description: 'Servers and their releases, addressed by effective handle.' },
      { name: 'console', description: 'The web console\'s static files.' },
      { name: 'docs', description: 'This document and its viewer.' },
    ],
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'A personal access token (`POST /api/tokens`, `sandbar user create`, `sandbar token issue`) or a run token (`POST /api/projects/{id}/runs`).',
        },
      },
      headers: {
        RequestId: { description: 'The request id (also in the access log).', schema: { type: 'string' } },
      },
      parameters: {
        ApiVersion: {
          name: 'x-api-version',
          in: 'header',
          description: 'Collections data API version: `1` (default, by name) or `2` (by project id and name). Anything else answers 400.',
          schema: { type: 'string', enum: ['1', '2'], default: '1' },
        },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error', 'message'],
          properties: {
            error: { type: 'string', pattern: '^[a-z_]+$', description: 'A stable snake_case code (docs/errors.md).' },
            message: { type: 'string', description: 'What went wrong, for a person.' },
            request_id: { type: 'string', description: 'Only on 500 `internal`.' },
            allow: { type: 'string', description: 'Only on 405: the allowed methods.' },
            lock_version: { type: 'integer', description: 'Only on 409 `stale_workflow`: the current lock_version.' },
            upserted: { type: 'integer', description: 'Only on 422 `duplicate_key`: always 0.' },
            effective_handle: { type: 'string', description: 'Only on a release handle 409.' },
            conflicting_release_id: { ...uuid, description: 'Only on a release handle 409.' },
          },
          additionalProperties: true,
        },
        Role: { type: 'string', enum: ['viewer', 'editor', 'admin', 'owner'] },
        Health: object({ status: { const: 'ok' } }),
        Ready: object({ status: { const: 'ready' }, migration: nullable({ type: 'string' }) }),
        IssuedToken: object({
          jti: uuid,
          name: { type: 'string' },
          created_at: timestamp,
          expires_at: nullable(timestamp),
          token: { type: 'string', description: 'The JWT. Shown once.' },
        }),
        AccessToken: object({
          jti: uuid,
          name: { type: 'string' },
          created_at: timestamp,
          expires_at: nullable(timestamp),
          last_used_at: nullable({ ...timestamp, description: 'Accurate to 30 s.' }),
          revoked_at: nullable(timestamp),
        }),
        ProjectInput: object({ name: { type: 'string', minLength: 1, maxLength: 255, description: 'Trimmed; no control characters.' } }),
        Project: object({ id: uuid, name: { type: 'string' }, parent_id: nullable(uuid), created_at: timestamp }),
        ProjectWithRole: object({ id: uuid, name: { type: 'string' }, parent_id: nullable(uuid), role: ref('Role'), created_at: timestamp }),
        Member: object({ user_id: uuid, email: { type: 'string' }, role: ref('Role') }),
        Run: object({
          id: uuid,
          token: { type: 'string', description: 'The run token (a JWT).' },
          options: object({ project_id: uuid }),
        }),
        CollectionInput: object({ name: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[a-z0-9]+([-_.][a-z0-9]+)*$' } }),
        Collection: object({
          id: uuid,
          project_id: uuid,
          name: { type: 'string' },
          item_count: int,
          byte_size: { ...int, description: 'Sum of the UTF-8 bytes of every key and value.' },
          created_at: timestamp,
          updated_at: timestamp,
        }),
        Item: object({ key: { type: 'string' }, value: { type: 'string' }, created: timestamp, updated: timestamp }),
        ItemInput: object({ key: { type: 'string', minLength: 1, description: '1–255 characters.' }, value: { type: 'string', description: 'At most 1,000,000 characters.' } }),
        ItemValue: object({ value: { type: 'string', description: 'At most 1,000,000 characters.' } }),
        ItemPage: object({ items: { type: 'array', items: ref('Item') }, cursor: nullable({ type: 'string' }) }),
        UpsertResult: object({ upserted: int, error: { type: 'null' } }),
        DeleteResult: object({ key: nullable({ type: 'string' }), deleted: int, error: { type: 'null' } }),
        DeletedCollection: object({ name: { type: 'string' }, item_count: int, byte_size: int }),
        MergePreview: object({
          sandbox_id: uuid,
          target_id: uuid,
          to_create: { type: 'array', items: { type: 'string' } },
          to_delete: { type: 'array', items: ref('DeletedCollection') },
          warning: { type: 'string', description: 'The consequence in words, for a person to confirm.' },
        }),
        MergeResult: object({
          sandbox_id: uuid,
          target_id: uuid,
          created: { type: 'array', items: { type: 'string' } },
          deleted: { type: 'array', items: ref('DeletedCollection') },
        }),
        WorkflowInput: object(
          {
            action: { type: 'string', enum: ['new', 'edit'], description: 'Any other string answers 422 `invalid_action`.' },
            name: { type: 'string', minLength: 1, maxLength: 255 },
            definition: {
              type: 'object',
              description:
                'Any JSON object, at most 1 MiB and 64 levels deep (the whole body at most 65). Stored as jsonb parsed from the request\'s own text, so numbers keep every digit (no rounding to doubles); a number counts at the length PostgreSQL prints it (`1e400` at 401 bytes). Of duplicate keys the last wins. A number beyond what PostgreSQL `numeric` holds answers 400.',
            },
            lock_version: nullable({ type: 'integer', minimum: 1, maximum: 2147483647 }),
          },
          ['lock_version'],
        ),
        WorkflowSummary: object({
          id: uuid,
          name: { type: 'string' },
          lock_version: { type: 'integer', minimum: 1 },
          deleted_at: nullable(timestamp),
          created_at: timestamp,
          updated_at: timestamp,
        }),
        Workflow: object({
          id: uuid,
          project_id: uuid,
          name: { type: 'string' },
          definition: { type: 'object', description: storedDefinition },
          lock_version: { type: 'integer', minimum: 1 },
          deleted_at: nullable(timestamp),
          created_at: timestamp,
          updated_at: timestamp,
        }),
        ResolvedWorkflow: object({
          kind: { type: 'string', enum: ['existing', 'version'] },
          id: uuid,
          project_id: uuid,
          name: { type: 'string' },
          definition: { type: 'object', description: storedDefinition },
          lock_version: { type: 'integer', minimum: 1 },
          version: { type: 'integer', minimum: 1 },
          deleted_at: nullable(timestamp),
          created_at: timestamp,
          updated_at: timestamp,
        }),
        SavedWorkflow: object({
          kind: { type: 'string', enum: ['new', 'existing'] },
          id: uuid,
          project_id: uuid,
          name: { type: 'string' },
          lock_version: { type: 'integer', minimum: 1 },
          created_at: timestamp,
          updated_at: timestamp,
        }),
        Server: object({ id: uuid, project_id: uuid, name: { type: 'string' }, created_at: timestamp }),
        ReleaseInput: object(
          {
            name: nullable({ type: 'string', maxLength: 255, pattern: '^[^/]*$' }),
            release_command: nullable({ type: 'string', maxLength: 4096, pattern: '(^$|[^/]$)' }),
          },
          ['name', 'release_command'],
        ),
        Release: object({
          id: uuid,
          server_id: uuid,
          name: nullable({ type: 'string' }),
          release_command: nullable({ type: 'string' }),
          effective_handle: nullable({ type: 'string', description: 'The name, else the basename of release_command; null for a logs-only release.' }),
          created_at: timestamp,
          updated_at: timestamp,
        }),
      },
    },
  };
}

/** The document. Built once; treat it as read-only. */
export const openApiDocument: OpenApiDocument = buildDocument();

// ---- routes: the document and its viewer -----------------------------------


/** The viewer's files: Swagger UI from node_modules (no CDN), plus our start-up script, allow-listed by name. */
function loadViewer(): Map<string, StaticAsset> {
  const dist = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  const file = (name: string) => readFileSync(path.join(dist, name));
  const init = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
});
`;
  return new Map([
    ['swagger-ui.css', staticAsset(file('swagger-ui.css'), 'text/css; charset=utf-8')],
    ['swagger-ui-bundle.js', staticAsset(file('swagger-ui-bundle.js'), 'text/javascript; charset=utf-8')],
    ['favicon-32x32.png', staticAsset(file('favicon-32x32.png'), 'image/png')],
    ['init.js', staticAsset(init, 'text/javascript; charset=utf-8')],
  ]);
}

const viewerPage = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>sandbar API</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/assets/init.js"></script>
</body>
</html>
`;

/**
 * Same origin only: the browser itself refuses any CDN, font service or
 * third-party fetch. Swagger UI sets inline styles from script, hence
 * 'unsafe-inline' for styles only.
 */
const viewerPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const send = (ctx: Context, file: StaticAsset) => sendStaticAsset(ctx, file, viewerPolicy);

/** GET /openapi.json, GET /docs and the viewer's files under /docs/assets/. All public. */
export function openApiRoutes(router: Router, _deps: Deps): void {
  const documentJson = staticAsset(JSON.stringify(openApiDocument), 'application/json; charset=utf-8');
  const page = staticAsset(viewerPage, 'text/html; charset=utf-8');
  const viewer = loadViewer();

  router.get('/openapi.json', (ctx) => {
    ctx.set('cache-control', 'no-cache');
    ctx.type = documentJson.type;
    ctx.body = documentJson.body;
  });
  router.get('/docs', (ctx) => send(ctx, page));
  router.get('/docs/assets/:file', (ctx) => {
    const file = viewer.get(ctx.params.file ?? '');
    if (!file) throw notFound('No such docs asset.');
    send(ctx, file);
  });
}
