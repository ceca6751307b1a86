/**
 * Whole-database operations Prisma's CLI asks of its engine outside the JSON-RPC session (`cli
 * can-connect-to-database | create-database | drop-database`). The WebAssembly engine has no such
 * commands, so they are done here with plain statements, as the native PostgreSQL connector does
 * them: create and drop from the server's `postgres` maintenance database.
 */
import { runStatement, withDatabase } from "./postgres-adapters.ts";

const MAINTENANCE_DATABASE = "postgres";

/** Succeeds when the database answers; throws the adapter's error (kind and database message) when not. */
export async function checkConnection(connectionString: string): Promise<void> {
  await runStatement(connectionString, "SELECT 1");
}

/** Creates the database the URL names; returns its name. */
export async function createDatabase(connectionString: string): Promise<string> {
  const name = databaseName(connectionString);
  await runStatement(withDatabase(connectionString, MAINTENANCE_DATABASE), `CREATE DATABASE ${quoteIdentifier(name)}`);
  return name;
}

/** Drops the database the URL names; returns its name. */
export async function dropDatabase(connectionString: string): Promise<string> {
  const name = databaseName(connectionString);
  await runStatement(withDatabase(connectionString, MAINTENANCE_DATABASE), `DROP DATABASE ${quoteIdentifier(name)}`);
  return name;
}

export function databaseName(connectionString: string): string {
  // PostgreSQL's own default: a URL without a database means the database named like the user.
  const url = new URL(connectionString);
  return decodeURIComponent(url.pathname.slice(1)) || decodeURIComponent(url.username) || MAINTENANCE_DATABASE;
}

export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
