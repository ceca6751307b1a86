/**
 * CLIP's (and GPT-2's) byte-level alphabet: BPE runs over the UTF-8 bytes of each pre-token, each
 * byte shown as one printable character so that merges and vocabulary entries are plain strings
 * with no whitespace or control characters in them.
 */

/**
 * `bytes_to_unicode` of openai/CLIP: printable Latin-1 bytes ("!"…"~", "¡"…"¬", "®"…"ÿ") stand for
 * themselves; the other 68 bytes get U+0100, U+0101, … in byte order. The iteration order is the
 * order of the first 256 entries of CLIP's vocabulary.
 */
export function bytesToUnicode(): Map<number, string> {
  const mapping = new Map<number, string>();
  for (const [from, to] of [[0x21, 0x7e], [0xa1, 0xac], [0xae, 0xff]] as const) {
    for (let byte = from; byte <= to; byte++) mapping.set(byte, String.fromCodePoint(byte));
  }
  let shifted = 0;
  for (let byte = 0; byte < 256; byte++) {
    if (!mapping.has(byte)) mapping.set(byte, String.fromCodePoint(0x100 + shifted++));
  }
  return mapping;
}

const BYTE_SYMBOLS: readonly string[] = [...bytesToUnicode()].sort(([a], [b]) => a - b).map(([, symbol]) => symbol);
const utf8 = new TextEncoder();

/**
 * A pre-token as byte symbols, e.g. "é" → "Ã©". Lone UTF-16 surrogates (which Python's UTF-8
 * encoder would refuse) are encoded as U+FFFD by TextEncoder.
 */
export function toByteSymbols(text: string): string {
  let symbols = "";
  for (const byte of utf8.encode(text)) symbols += BYTE_SYMBOLS[byte]!;
  return symbols;
}
