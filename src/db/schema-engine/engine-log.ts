/**
 * Log lines on stderr in the native engine's format (tracing's JSON output), which is what Prisma's
 * CLI parses there: `fields.message` of every line, and the last ERROR line's fields as the error.
 */

export function logLine(level: "INFO" | "ERROR", fields: Record<string, unknown>): string {
  return JSON.stringify({ timestamp: new Date().toISOString(), level, fields, target: "schema_engine::logger" });
}

/** Writes one line (the engine's own lines arrive with their newline, ours without). */
export function writeLog(line: string): void {
  process.stderr.write(line.endsWith("\n") ? line : `${line}\n`);
}
