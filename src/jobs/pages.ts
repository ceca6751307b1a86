/**
 * Pages of a list, as galleries and job lists return them: keyset cursors (opaque base64url JSON of
 * the sort key), at most MAX_PAGE_SIZE items, and the errors a bad `first` or `after` gets.
 */
import { UserFacingError } from "../errors.ts";

export interface Page<T> {
  nodes: { cursor: string; node: T }[];
  hasNextPage: boolean;
  endCursor: string | null;
  totalCount: number;
}

/** Most items one page may ask for. */
export const MAX_PAGE_SIZE = 100;

/** A page argument is wrong; `field` names it. */
export class PageArgumentsError extends UserFacingError {
  override readonly name = "PageArgumentsError";
  constructor(
    message: string,
    readonly field: "first" | "after",
  ) {
    super(message);
  }
}

export function checkPageSize(first: number): void {
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) throw new PageArgumentsError(`first=${first}: must be a whole number between 1 and ${MAX_PAGE_SIZE}`, "first");
}

/** The cursor of an item whose sort key is `key`. */
export function encodeCursor(key: readonly unknown[]): string {
  return Buffer.from(JSON.stringify(key)).toString("base64url");
}

/**
 * The sort key in a cursor, checked by `read` (undefined when it is not a key of this list).
 * @param list what the message calls the list, e.g. "gallery"
 */
export function decodeCursor<T>(cursor: string, list: string, read: (key: unknown[]) => T | undefined): T {
  try {
    const key = JSON.parse(Buffer.from(cursor, "base64url").toString()) as unknown;
    const parsed = Array.isArray(key) ? read(key) : undefined;
    if (parsed !== undefined) return parsed;
  } catch {
    // Reported below.
  }
  throw new PageArgumentsError(`after=${JSON.stringify(cursor)}: not a cursor this ${list} returned`, "after");
}

/** The page from `first + 1` rows fetched in order: the extra row only says there is a next page. */
export function toPage<T>(rows: T[], first: number, keyOf: (row: T) => readonly unknown[], totalCount: number): Page<T> {
  const nodes = rows.slice(0, first).map((row) => ({ cursor: encodeCursor(keyOf(row)), node: row }));
  return { nodes, hasNextPage: rows.length > first, endCursor: nodes.at(-1)?.cursor ?? null, totalCount };
}
