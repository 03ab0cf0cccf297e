/**
 * Checks a response against the OpenAPI document (src/http/openapi.ts): the
 * concrete path must match a documented path, the method must be documented
 * for it, the status declared for that operation, the content type one the
 * status declares, and a JSON body must validate against its schema (Ajv,
 * JSON Schema 2020-12 with formats). test/helpers/server.ts runs this on every
 * response `request()` returns.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { openApiDocument, type Method, type ResponseObject } from '../../src/http/openapi.ts';
import { decodable } from '../../src/http/validate.ts';

// ajv-formats is CommonJS with a default export; under NodeNext its type is the module namespace.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

const DOCUMENT_ID = 'urn:sandbar:openapi';

function createAjv(): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false });
  addFormats(ajv);
  // The document's own fields and OpenAPI's schema extensions: known, and not validation keywords.
  ajv.addVocabulary(['openapi', 'jsonSchemaDialect', 'info', 'tags', 'paths', 'components', 'servers', 'webhooks', 'security', 'externalDocs', 'example', 'discriminator', 'xml']);
  ajv.addSchema(openApiDocument as unknown as object, DOCUMENT_ID);
  return ajv;
}

const ajv = createAjv();

interface Template {
  path: string;
  regex: RegExp;
  literalSegments: number;
}

/**
 * `/api/projects/{id}` → a regex over the raw (percent-encoded) request path,
 * one segment per parameter, matching as @koa/router does: case-insensitive,
 * with an optional trailing slash.
 */
const templates: Template[] = Object.keys(openApiDocument.paths).map((path) => ({
  path,
  regex: new RegExp(`^${path.replace(/\/$/, '').replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}/]+\}/g, '[^/]+')}/?$`, 'i'),
  literalSegments: path.split('/').filter((s) => s && !s.startsWith('{')).length,
}));

/** The documented path a concrete path matches: an exact match first, then the most literal segments. */
export function matchPath(concretePath: string): string | undefined {
  const matches = templates.filter((t) => t.regex.test(concretePath));
  matches.sort((a, b) => Number(b.path === concretePath) - Number(a.path === concretePath) || b.literalSegments - a.literalSegments);
  return matches[0]?.path;
}

const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

const compiled = new Map<string, ValidateFunction>();
function validatorFor(path: string, method: string, status: string, mediaType: string): ValidateFunction {
  const key = `${DOCUMENT_ID}#/${pointer('paths', path, method, 'responses', status, 'content', mediaType, 'schema')}`;
  let fn = compiled.get(key);
  if (!fn) {
    fn = ajv.getSchema(key);
    if (!fn) throw new Error(`no schema at ${key}`);
    compiled.set(key, fn);
  }
  return fn;
}

const mediaTypeOf = (contentType: string | null) => (contentType ?? '').split(';')[0]!.trim().toLowerCase();
const isJson = (mediaType: string) => mediaType === 'application/json' || mediaType.endsWith('+json');


const methodsWithBody = new Set(['POST', 'PUT', 'PATCH']);
const bodyParserStatuses = new Set([400, 413, 415, 422]);

export interface Exchange {
  method: string;
  /** The request path without the query string, as sent (percent-encoded). */
  path: string;
  status: number;
  contentType: string | null;
}

/** What the body must be, once the status line and headers passed: nothing, JSON for a schema, or anything. */
export type BodyCheck = { kind: 'empty' } | { kind: 'json'; validate: (body: unknown) => string | undefined } | { kind: 'any' };

const errorSchema = () => {
  const fn = ajv.getSchema(`${DOCUMENT_ID}#/components/schemas/Error`)!;
  return (body: unknown) => (fn(body) ? undefined : ajv.errorsText(fn.errors, { dataVar: 'body' }));
};

/**
 * Checks the status line and headers; returns how to check the body, or throws
 * naming the route, the status and what disagrees with the document.
 */
export function checkResponse(x: Exchange): BodyCheck {
  const where = `${x.method} ${x.path} → ${x.status}`;
  const fail = (why: string): never => {
    throw new Error(`OpenAPI: ${where}: ${why} (fix src/http/openapi.ts, or report the product bug)`);
  };
  const documented = matchPath(x.path);
  const mediaType = mediaTypeOf(x.contentType);
  const operation = documented ? openApiDocument.paths[documented]![(x.method === 'HEAD' ? 'get' : x.method.toLowerCase()) as Method] : undefined;
  // The JSON body parser runs before routing: a bad body answers 400/413/415/422 wherever it was sent.
  if (!operation && bodyParserStatuses.has(x.status) && methodsWithBody.has(x.method)) {
    if (!isJson(mediaType)) fail(`the body parser answered ${mediaType || 'no content type'}, not the JSON error`);
    return { kind: 'json', validate: errorSchema() };
  }
  // The path is checked before routing: one that is not valid percent-encoded UTF-8 answers 400 wherever it was sent.
  if (x.status === 400 && !decodable(x.path)) {
    if (!isJson(mediaType)) fail(`a malformed path answered ${mediaType || 'no content type'}, not the JSON error`);
    return { kind: 'json', validate: errorSchema() };
  }
  if (!documented) {
    // Any undocumented path: the router's own 404.
    if (x.status !== 404) fail('the path is not documented (an unknown path must answer 404)');
    if (!isJson(mediaType)) fail(`an unknown path answered ${mediaType || 'no content type'}, not the JSON error`);
    return { kind: 'json', validate: errorSchema() };
  }
  if (!operation) {
    if (x.method === 'OPTIONS' && (x.status === 200 || x.status === 204)) return { kind: 'any' };
    if (x.status !== 405) fail(`${x.method} is not documented for ${documented} (an undocumented method must answer 405)`);
    return { kind: 'json', validate: errorSchema() };
  }
  const status = String(x.status);
  const response = operation.responses[status] as ResponseObject | undefined;
  if (!response) fail(`status ${status} is not declared for ${x.method} ${documented} (declared: ${Object.keys(operation.responses).join(', ')})`);
  const content = response!.content;
  if (!content || x.method === 'HEAD') return { kind: 'empty' };
  const declared = Object.keys(content);
  const match = declared.find((d) => mediaTypeOf(d) === mediaType);
  if (!match) fail(`content type ${JSON.stringify(x.contentType)} is not declared for ${x.method} ${documented} ${status} (declared: ${declared.join(', ')})`);
  if (!isJson(mediaType)) return { kind: 'any' };
  const fn = validatorFor(documented, x.method === 'HEAD' ? 'get' : x.method.toLowerCase(), status, match!);
  return { kind: 'json', validate: (body) => (fn(body) ? undefined : ajv.errorsText(fn.errors, { dataVar: 'body' })) };
}

/** Checks a whole body text against what checkResponse() asked for; throws with the schema error. */
export function checkBody(x: Exchange, check: BodyCheck, text: string): void {
  const where = `${x.method} ${x.path} → ${x.status}`;
  if (check.kind === 'any') return;
  if (check.kind === 'empty') {
    if (text !== '') throw new Error(`OpenAPI: ${where}: the document declares no body, but one came: ${text.slice(0, 200)}`);
    return;
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`OpenAPI: ${where}: the body is not JSON: ${text.slice(0, 200)}`);
  }
  const problem = check.validate(body);
  if (problem) throw new Error(`OpenAPI: ${where}: the body does not match the schema: ${problem}; body: ${text.slice(0, 500)}`);
}
