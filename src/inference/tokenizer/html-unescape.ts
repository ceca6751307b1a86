/**
 * Python's `html.unescape` (3.11), which CLIP's `basic_clean` applies twice: the same reference
 * syntax, the same numeric rules (HTML5's replacements for invalid code points) and the same
 * longest-prefix rule for names without a semicolon. Named references are limited to the table
 * in html-entities.ts (see there for what is left out).
 */
import { NAMED_REFERENCES, NAMES_WITHOUT_SEMICOLON } from "./html-entities.ts";

// Python's pattern; `u` so that the name's {1,32} counts code points, as Python does.
const CHARACTER_REFERENCE = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/gu;

/** HTML5's table for numeric references to C0/C1 code points: mostly windows-1252's meaning. */
const NUMERIC_REPLACEMENTS: ReadonlyMap<number, string> = new Map([
  [0x00, "\ufffd"], [0x0d, "\r"], [0x80, "\u20ac"], [0x81, "\x81"], [0x82, "\u201a"], [0x83, "\u0192"],
  [0x84, "\u201e"], [0x85, "\u2026"], [0x86, "\u2020"], [0x87, "\u2021"], [0x88, "\u02c6"], [0x89, "\u2030"],
  [0x8a, "\u0160"], [0x8b, "\u2039"], [0x8c, "\u0152"], [0x8d, "\x8d"], [0x8e, "\u017d"], [0x8f, "\x8f"],
  [0x90, "\x90"], [0x91, "\u2018"], [0x92, "\u2019"], [0x93, "\u201c"], [0x94, "\u201d"], [0x95, "\u2022"],
  [0x96, "\u2013"], [0x97, "\u2014"], [0x98, "\u02dc"], [0x99, "\u2122"], [0x9a, "\u0161"], [0x9b, "\u203a"],
  [0x9c, "\u0153"], [0x9d, "\x9d"], [0x9e, "\u017e"], [0x9f, "\u0178"],
]);

/** Decodes the character references in `text` as Python's `html.unescape` does. */
export function htmlUnescape(text: string): string {
  if (!text.includes("&")) return text;
  return text.replace(CHARACTER_REFERENCE, (_match, reference: string) =>
    reference.startsWith("#") ? numericReference(reference) : namedReference(reference),
  );
}

/** "#65", "#x41;" … Digits too many for a double still compare above U+10FFFF, as they should. */
function numericReference(reference: string): string {
  const hex = reference[1] === "x" || reference[1] === "X";
  const digits = reference.slice(hex ? 2 : 1).replace(/;$/, "");
  const codePoint = Number.parseInt(digits, hex ? 16 : 10);
  const replacement = NUMERIC_REPLACEMENTS.get(codePoint);
  if (replacement !== undefined) return replacement;
  if ((codePoint >= 0xd800 && codePoint <= 0xdfff) || codePoint > 0x10ffff) return "\ufffd";
  return isDroppedCodePoint(codePoint) ? "" : String.fromCodePoint(codePoint);
}

/** Python's `_invalid_codepoints`: C0/C1 controls other than whitespace, and the noncharacters. */
function isDroppedCodePoint(codePoint: number): boolean {
  return (
    (codePoint >= 0x01 && codePoint <= 0x08) ||
    codePoint === 0x0b ||
    (codePoint >= 0x0e && codePoint <= 0x1f) ||
    (codePoint >= 0x7f && codePoint <= 0x9f) ||
    (codePoint >= 0xfdd0 && codePoint <= 0xfdef) ||
    (codePoint & 0xfffe) === 0xfffe
  );
}

/** "amp;", "copy", "ampx" (→ "&x": the longest name without semicolon that starts it) … */
function namedReference(reference: string): string {
  const exact = lookUpName(reference);
  if (exact !== undefined) return exact;
  // Python tries prefixes of 2+ characters, longest first; only semicolon-less names can match.
  for (let length = reference.length - 1; length > 1; length--) {
    const prefix = lookUpName(reference.slice(0, length));
    if (prefix !== undefined) return prefix + reference.slice(length);
  }
  return `&${reference}`;
}

function lookUpName(reference: string): string | undefined {
  const withSemicolon = reference.endsWith(";");
  const name = withSemicolon ? reference.slice(0, -1) : reference;
  if (!withSemicolon && !NAMES_WITHOUT_SEMICOLON.has(name)) return undefined;
  const codePoint = Object.hasOwn(NAMED_REFERENCES, name) ? NAMED_REFERENCES[name] : undefined;
  return codePoint === undefined ? undefined : String.fromCodePoint(codePoint);
}
