/**
 * JSON as Python's `json.dumps` writes it: diffusers saves `-Infinity` (DPM-Solver's
 * `lambda_min_clipped`), `Infinity` and `NaN` unquoted, which JSON.parse rejects.
 */
const NON_FINITE = { Infinity: Number.POSITIVE_INFINITY, "-Infinity": Number.NEGATIVE_INFINITY, NaN: Number.NaN } as const;
const MARK = "\u0000python-json:";

export function parsePythonJson(text: string): unknown {
  // Strings are matched first so that a "NaN" inside one is left alone.
  const quoted = text.replace(/"(?:\\.|[^"\\])*"|(-?Infinity|NaN)/g, (match, token: string | undefined) =>
    token ? JSON.stringify(MARK + token) : match,
  );
  return JSON.parse(quoted, (_key, value: unknown) =>
    typeof value === "string" && value.startsWith(MARK) ? NON_FINITE[value.slice(MARK.length) as keyof typeof NON_FINITE] : value,
  );
}
