/**
 * Request bodies shaped by the OpenAPI document (src/http/openapi.ts): for
 * each operation's JSON body schema, an arbitrary of bodies that pass the
 * schema's shape, with hostile strings and numbers mixed into the leaves, so
 * the fuzz reaches the handlers and the database instead of stopping at
 * validation. A small JSON Schema → fast-check mapping: the keywords the
 * document uses, nothing more.
 */
import fc from 'fast-check';
import { openApiDocument, type JsonSchema, type Method } from '../../src/http/openapi.ts';

type Components = Record<string, JsonSchema>;
const components = (openApiDocument as unknown as { components: { schemas: Components } }).components.schemas;

function resolve(schema: JsonSchema): JsonSchema {
  const ref = schema.$ref;
  if (typeof ref === 'string' && ref.startsWith('#/components/schemas/')) return resolve({ ...components[ref.slice(21)]!, ...Object.fromEntries(Object.entries(schema).filter(([k]) => k !== '$ref')) });
  return schema;
}

export function schemaArb(schema: JsonSchema, hostile: fc.Arbitrary<unknown>, depth = 0): fc.Arbitrary<unknown> {
  const s = resolve(schema);
  const alternatives = (s.oneOf ?? s.anyOf) as JsonSchema[] | undefined;
  if (alternatives) return fc.oneof(...alternatives.map((a) => schemaArb(a, hostile, depth + 1)));
  if (Array.isArray(s.enum)) return fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...(s.enum as unknown[])) }, { weight: 1, arbitrary: hostile });
  const leaf = (arb: fc.Arbitrary<unknown>) => fc.oneof({ weight: 4, arbitrary: arb }, { weight: 1, arbitrary: hostile });
  switch (s.type) {
    case 'object': {
      const properties = (s.properties ?? {}) as Record<string, JsonSchema>;
      const required = (s.required ?? []) as string[];
      if (Object.keys(properties).length === 0) return fc.constant({});
      return fc.record(
        Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, depth > 4 ? fc.constant(null) : schemaArb(v, hostile, depth + 1)])),
        { requiredKeys: required },
      );
    }
    case 'array':
      return fc.array(schemaArb((s.items ?? {}) as JsonSchema, hostile, depth + 1), { maxLength: depth > 2 ? 2 : 8 });
    case 'string': {
      if (s.format === 'uuid') return leaf(fc.uuid());
      if (s.format === 'date-time') return leaf(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()));
      const minLength = Number(s.minLength ?? 0);
      const maxLength = Math.min(Number(s.maxLength ?? 40), 300);
      return leaf(fc.string({ unit: 'grapheme', minLength, maxLength: Math.max(minLength, Math.min(maxLength, 40)) }));
    }
    case 'integer':
      return leaf(fc.integer({ min: Number(s.minimum ?? -1000), max: Number(s.maximum ?? 1_000_000) }));
    case 'number':
      return leaf(fc.double({ noNaN: true }));
    case 'boolean':
      return leaf(fc.boolean());
    case 'null':
      return fc.constant(null);
    default:
      // No type: anything JSON (a workflow definition, say).
      return fc.jsonValue({ maxDepth: 3 });
  }
}

/** The JSON body schema of `method` on a router path such as /api/projects/:id, if the document has one. */
export function bodySchemaFor(routerPath: string, method: string): JsonSchema | undefined {
  const templated = routerPath.replace(/:(\w+)/g, '{$1}');
  const shape = (p: string) => p.replace(/\{[^}]+\}/g, '{}');
  const paths = openApiDocument.paths as Record<string, Partial<Record<Method, { requestBody?: { content: Record<string, { schema: JsonSchema }> } }>>>;
  const path = Object.keys(paths).find((p) => shape(p) === shape(templated) && paths[p]![method.toLowerCase() as Method]?.requestBody);
  return path ? paths[path]![method.toLowerCase() as Method]!.requestBody!.content['application/json']?.schema : undefined;
}
