/**
 * How the WebAssembly schema engine reaches PostgreSQL: @prisma/adapter-pg, with four changes that
 * migrations need and the adapter (written for Prisma Client's queries) lacks. Each was met as a
 * failure of `prisma migrate` through the adapter as published:
 *
 * - The engine's catalog queries return pg_catalog's `"char"` columns (OID 18), which the adapter
 *   rejects as an unsupported type. They are read as text and reported as the engine's `Character`.
 * - The adapter runs a script by splitting it on every `;`, which breaks any `;` inside a string,
 *   comment or function body. A script goes to the server whole (one simple query, hence one
 *   implicit transaction), as the native engine sends it.
 * - Its shadow database connects with `{ ...config, database }`, but a `connectionString` in that
 *   config wins over `database`, so the "shadow" database was the main one. Here the shadow
 *   database's own URL is built instead.
 * - Its shadow database release drops the database while its pool still holds a connection, which
 *   fails. Here the pool ends first, then the database is dropped (WITH (FORCE), in case a
 *   connection lingers).
 */
import { randomUUID } from "node:crypto";
import { PrismaPg } from "@prisma/adapter-pg";
import {
  bindMigrationAwareSqlAdapterFactory,
  ColumnTypeEnum,
  type ErrorCapturingSqlMigrationAwareDriverAdapterFactory,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
  type SqlQuery,
  type SqlQueryable,
  type SqlResultSet,
  type Transaction,
} from "@prisma/driver-adapter-utils";
import type pg from "pg";

const CHAR_OID = 18;
const TEXT_OID = 25;

export interface PostgresTarget {
  /** The database the engine works on, as a postgresql:// URL. */
  connectionString: string;
  /** Runs before each connection is opened, e.g. to start the embedded server on first use. */
  beforeConnect?: () => Promise<void>;
}

export interface MigrationAdapters {
  /** What the engine is given: the factory wrapped so that its errors come back as values. */
  readonly factory: ErrorCapturingSqlMigrationAwareDriverAdapterFactory;
  /** Closes every connection (and drops every shadow database) the engine left open. */
  close(): Promise<void>;
}

/** The adapter's own members this module builds on (present in adapter-pg 7.10, not in its types). */
interface PgQueryableInternals extends SqlQueryable {
  performIO(query: SqlQuery): Promise<pg.QueryResult>;
  onError(error: unknown): never;
}

interface PgAdapterInternals extends SqlDriverAdapter, PgQueryableInternals {
  underlyingDriver(): pg.Pool;
}

export function createMigrationAdapters(target: PostgresTarget): MigrationAdapters {
  const factory = new PostgresMigrationAdapterFactory(target);
  return { factory: bindMigrationAwareSqlAdapterFactory(factory), close: () => factory.closeAll() };
}

class PostgresMigrationAdapterFactory implements SqlMigrationAwareDriverAdapterFactory {
  readonly provider = "postgres";
  readonly adapterName = "@prisma/adapter-pg";
  readonly #open = new Set<SqlDriverAdapter>();

  constructor(private readonly target: PostgresTarget) {}

  async connect(): Promise<SqlDriverAdapter> {
    await this.target.beforeConnect?.();
    const adapter = await openMigrationAdapter(this.target.connectionString);
    return this.#track(adapter, () => adapter.dispose());
  }

  async connectToShadowDb(): Promise<SqlDriverAdapter> {
    await this.target.beforeConnect?.();
    const name = `prisma_migrate_shadow_db_${randomUUID()}`;
    await runStatement(this.target.connectionString, `CREATE DATABASE "${name}"`);
    const adapter = await openMigrationAdapter(withDatabase(this.target.connectionString, name));
    return this.#track(adapter, async () => {
      await adapter.dispose();
      await runStatement(this.target.connectionString, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    });
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.#open].map((adapter) => adapter.dispose()));
  }

  /** Remembers the adapter until it is disposed, so that `closeAll` can end what the engine left open. */
  #track(adapter: SqlDriverAdapter, release: () => Promise<void>): SqlDriverAdapter {
    let releasing: Promise<void> | undefined;
    const tracked: SqlDriverAdapter = Object.create(adapter, {
      dispose: {
        value: () => {
          this.#open.delete(tracked);
          return (releasing ??= release());
        },
      },
    });
    this.#open.add(tracked);
    return tracked;
  }
}

/** An adapter-pg connection pool with the changes described at the top of this file. */
async function openMigrationAdapter(connectionString: string): Promise<SqlDriverAdapter> {
  // Prisma's `?schema=` URL parameter names the PostgreSQL schema to migrate; adapter-pg takes it as an option.
  const schema = new URL(connectionString).searchParams.get("schema") ?? undefined;
  const adapter = (await new PrismaPg({ connectionString }, { schema }).connect()) as unknown as PgAdapterInternals;
  return Object.create(adapter, {
    queryRaw: { value: queryRawReadingChar(adapter) },
    executeScript: { value: (script: string) => runScriptWhole(adapter, script) },
    startTransaction: {
      value: async (isolationLevel?: Parameters<SqlDriverAdapter["startTransaction"]>[0]) => {
        const transaction = (await adapter.startTransaction(isolationLevel)) as Transaction & PgQueryableInternals;
        return Object.create(transaction, { queryRaw: { value: queryRawReadingChar(transaction) } });
      },
    },
  });
}

/**
 * The adapter's own `queryRaw`, run on a per-call view of the queryable whose `performIO` relabels
 * `"char"` columns as text (so the adapter accepts them) and records where they were, so that the
 * result can report them as `Character`, the type the engine reads those catalog columns as.
 */
function queryRawReadingChar(queryable: PgQueryableInternals): (query: SqlQuery) => Promise<SqlResultSet> {
  const { queryRaw, performIO } = queryable;
  return async (query) => {
    let charColumns: number[] = [];
    const view = Object.create(queryable, {
      performIO: {
        value: async (sql: SqlQuery) => {
          const result = await performIO.call(queryable, sql);
          charColumns = relabelCharAsText(result.fields);
          return result;
        },
      },
    });
    const resultSet = await queryRaw.call(view, query);
    for (const column of charColumns) resultSet.columnTypes[column] = ColumnTypeEnum.Character;
    return resultSet;
  };
}

function relabelCharAsText(fields: pg.FieldDef[]): number[] {
  const charColumns: number[] = [];
  fields.forEach((field, index) => {
    if (field.dataTypeID !== CHAR_OID) return;
    field.dataTypeID = TEXT_OID;
    charColumns.push(index);
  });
  return charColumns;
}

async function runScriptWhole(adapter: PgAdapterInternals, script: string): Promise<void> {
  try {
    await adapter.underlyingDriver().query(script);
  } catch (error) {
    adapter.onError(error);
  }
}

/**
 * Runs one statement on the database `connectionString` names, through the adapter so that a
 * failure carries the adapter's error kinds (database missing, unreachable, ...).
 */
export async function runStatement(connectionString: string, sql: string): Promise<void> {
  const adapter = (await new PrismaPg({ connectionString }).connect()) as unknown as PgAdapterInternals;
  try {
    await runScriptWhole(adapter, sql);
  } finally {
    await adapter.dispose();
  }
}

/** The same server and credentials, another database. */
export function withDatabase(connectionString: string, database: string): string {
  const url = new URL(connectionString);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}
