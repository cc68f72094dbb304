// The migrated database must match prisma/schema.prisma, the model the Prisma client is generated from: the same
// tables, columns, types, nullability, defaults, indexes and foreign keys. Prisma's own `migrate diff` needs the
// native schema engine, which these machines cannot download; getDMMF runs on Prisma's WebAssembly build.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import internals from "@prisma/internals";
import { createTestDatabase, type TestDatabase } from "../../support/database";

interface Field {
  name: string;
  dbName?: string | null;
  kind: string;
  type: string;
  isRequired: boolean;
  isList: boolean;
  hasDefaultValue: boolean;
  nativeType?: [string, string[]] | null;
  relationFromFields?: string[];
  relationToFields?: string[];
  relationOnDelete?: string;
}
interface Model { name: string; dbName: string | null; fields: Field[] }
interface Index { model: string; type: "id" | "unique" | "normal" | "fulltext"; dbName?: string | null; fields: { name: string; sortOrder?: string }[] }

let db: TestDatabase;
let models: Model[];
let indexes: Index[];

beforeAll(async () => {
  db = await createTestDatabase();
  const dmmf = await internals.getDMMF({ datamodel: readFileSync("prisma/schema.prisma", "utf8") });
  models = dmmf.datamodel.models as unknown as Model[];
  indexes = (dmmf.datamodel as unknown as { indexes: Index[] }).indexes;
});
afterAll(async () => {
  await db.drop();
});

const tableOf = (m: Model) => m.dbName ?? m.name;
const columnOf = (f: Field) => f.dbName ?? f.name;

/** The PostgreSQL type Prisma creates for a field, as `format_type` prints it. */
function expectedType(f: Field): string {
  return f.isList ? `${elementType(f)}[]` : elementType(f);
}

function elementType(f: Field): string {
  const [native, args] = f.nativeType ?? [null, []];
  switch (native) {
    case "Uuid": return "uuid";
    case "VarChar": return args.length ? `character varying(${args[0]})` : "character varying";
    case "Char": return `character(${args[0]})`;
    case "Timestamptz": return `timestamp(${args[0] ?? 3}) with time zone`;
    case "Text": return "text";
    case "SmallInt": return "smallint";
    case null: break;
    default: throw new Error(`add native type ${native} to the drift test`);
  }
  const scalar: Record<string, string> = {
    String: "text", Int: "integer", BigInt: "bigint", Boolean: "boolean", DateTime: "timestamp(3) without time zone",
    Json: "jsonb", Bytes: "bytea", Float: "double precision", Decimal: "numeric(65,30)",
  };
  const t = scalar[f.type];
  if (!t) throw new Error(`unknown scalar ${f.type}`);
  return t;
}

/**
 * The `where: raw("…")` of each partial @@index or @@unique (preview feature partialIndexes), by `indexKey`: the DMMF
 * of Prisma 7.10 leaves it out of its indexes, so it is read from the schema's text.
 */
function partialIndexPredicates(schema: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [, model, body] of schema.matchAll(/^model (\w+) \{([\s\S]*?)^\}/gm)) {
    for (const [, fields, rest] of body!.matchAll(/@@(?:index|unique)\(\[([^\]]*)\]([^\n]*)/g)) {
      const predicate = /where:\s*raw\("([^"]*)"\)/.exec(rest!)?.[1];
      if (predicate === undefined) continue;
      const names = fields!.split(",").map((f) => f.trim().replace(/\(.*$/, ""));
      out.set(indexKey(model!, names, /map:\s*"([^"]*)"/.exec(rest!)?.[1]), `(${predicate})`);
    }
  }
  return out;
}

/** "Model field,field", and the index's name when the schema gives one (two indexes of the same fields differ by it). */
const indexKey = (model: string, fields: readonly string[], name?: string | null) => `${model} ${fields.join(",")}${name ? ` ${name}` : ""}`;

async function rows<T>(sql: string): Promise<T[]> {
  return (await db.pool.query(sql)).rows as T[];
}

describe("the migrated database matches schema.prisma", () => {
  it("has exactly the schema's tables", async () => {
    const tables = await rows<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'`);
    expect(tables.map((t) => t.table_name).sort()).toEqual(models.map(tableOf).sort());
  });

  it("has exactly the schema's columns, types, nullability and defaults", async () => {
    const cols = await rows<{ table: string; column: string; type: string; not_null: boolean; has_default: boolean }>(`
      SELECT c.relname AS table, a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type,
             a.attnotnull AS not_null, a.atthasdef AS has_default
      FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped AND c.relname <> '_prisma_migrations'`);
    const actual = cols.map((c) => `${c.table}.${c.column} ${c.type}${c.not_null ? " not null" : ""}${c.has_default ? " default" : ""}`).sort();
    const expected = models.flatMap((m) =>
      m.fields.filter((f) => f.kind === "scalar" || f.kind === "enum").map((f) => {
        // Application-generated defaults (uuid(), cuid()) live in the client, not the column.
        // A list's `@default([])` is a column default too.
        const dbDefault = f.hasDefaultValue;
        return `${tableOf(m)}.${columnOf(f)} ${expectedType(f)}${f.isRequired ? " not null" : ""}${dbDefault ? " default" : ""}`;
      }),
    ).sort();
    expect(actual).toEqual(expected);
  });

  it("has exactly the schema's primary keys, unique and plain indexes (columns in order, sort direction, partial predicate)", async () => {
    const idx = await rows<{ table: string; unique: boolean; primary: boolean; predicate: string | null; columns: string[] }>(`
      SELECT t.relname AS table, ix.indisunique AS unique, ix.indisprimary AS primary, pg_get_expr(ix.indpred, ix.indrelid) AS predicate,
             array_agg(a.attname || CASE WHEN (ix.indoption[k.ord - 1] & 1) = 1 THEN ' desc' ELSE '' END ORDER BY k.ord) AS columns
      FROM pg_index ix JOIN pg_class t ON t.oid = ix.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
      CROSS JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord)
      JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
      WHERE n.nspname = 'public' AND t.relname <> '_prisma_migrations'
      GROUP BY t.relname, ix.indexrelid, ix.indisunique, ix.indisprimary, ix.indpred, ix.indrelid`);
    // PostgreSQL prints a partial index's predicate in parentheses: (error_code IS NOT NULL).
    const where = (predicate: string | null) => (predicate === null ? "" : ` WHERE ${predicate.replace(/^\((.*)\)$/, "$1")}`);
    const actual = idx.map((i) => `${i.table} ${i.primary ? "id" : i.unique ? "unique" : "normal"} (${i.columns.join(", ")})${where(i.predicate)}`).sort();
    const predicates = partialIndexPredicates(readFileSync("prisma/schema.prisma", "utf8"));
    const byModel = new Map(models.map((m) => [m.name, m]));
    const expected = indexes.map((i) => {
      const m = byModel.get(i.model)!;
      const cols = i.fields.map((f) => {
        const field = m.fields.find((x) => x.name === f.name)!;
        return `${columnOf(field)}${f.sortOrder === "desc" ? " desc" : ""}`;
      });
      return `${tableOf(m)} ${i.type} (${cols.join(", ")})${where(predicates.get(indexKey(i.model, i.fields.map((f) => f.name), i.dbName)) ?? null)}`;
    }).sort();
    expect(actual).toEqual(expected);
  });

  it("has exactly the schema's foreign keys with their delete rules", async () => {
    const fks = await rows<{ table: string; columns: string[]; ref: string; ref_columns: string[]; on_delete: string }>(`
      SELECT c.conrelid::regclass::text AS table, c.confrelid::regclass::text AS ref,
             (SELECT array_agg(attname::text ORDER BY u.ord) FROM unnest(c.conkey) WITH ORDINALITY u(n, ord) JOIN pg_attribute ON attrelid = c.conrelid AND attnum = u.n) AS columns,
             (SELECT array_agg(attname::text ORDER BY u.ord) FROM unnest(c.confkey) WITH ORDINALITY u(n, ord) JOIN pg_attribute ON attrelid = c.confrelid AND attnum = u.n) AS ref_columns,
             c.confdeltype AS on_delete
      FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE c.contype = 'f' AND n.nspname = 'public'`);
    const rule: Record<string, string> = { c: "Cascade", r: "Restrict", n: "SetNull", a: "NoAction", d: "SetDefault" };
    const actual = fks.map((f) => `${f.table}(${f.columns.join(",")}) -> ${f.ref}(${f.ref_columns.join(",")}) ${rule[f.on_delete]}`).sort();
    const byName = new Map(models.map((m) => [m.name, m]));
    const expected = models.flatMap((m) =>
      m.fields.filter((f) => f.kind === "object" && (f.relationFromFields?.length ?? 0) > 0).map((f) => {
        const target = byName.get(f.type)!;
        const from = f.relationFromFields!.map((n) => columnOf(m.fields.find((x) => x.name === n)!));
        const to = f.relationToFields!.map((n) => columnOf(target.fields.find((x) => x.name === n)!));
        return `${tableOf(m)}(${from.join(",")}) -> ${tableOf(target)}(${to.join(",")}) ${f.relationOnDelete ?? (f.isRequired ? "Restrict" : "SetNull")}`;
      }),
    ).sort();
    expect(actual).toEqual(expected);
  });
});
