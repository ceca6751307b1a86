/**
 * Byte-pair encoding of one pre-token, as openai/CLIP's `SimpleTokenizer.bpe` does it: the last
 * symbol carries the "</w>" end-of-word suffix, and the adjacent pair with the lowest merge rank is
 * merged everywhere (left to right, non-overlapping) until no listed pair is left.
 */

/** The end-of-word marker CLIP appends to the last symbol of every word. */
export const END_OF_WORD = "</w>";

/** A merge rule: two adjacent symbols that become one. */
export type Merge = readonly [left: string, right: string];

/**
 * How many encoded words to remember. CLIP's reference caches without a bound; a server sees
 * unbounded distinct prompts, so past this size the oldest entry is dropped.
 */
const CACHE_SIZE = 50_000;

export class BytePairEncoder {
  readonly #ranks = new Map<string, number>();
  readonly #cache = new Map<string, readonly string[]>();

  /** @param merges merge rules in priority order: the first merges first. */
  constructor(merges: Iterable<Merge>) {
    let rank = 0;
    for (const [left, right] of merges) {
      // A repeated rule keeps its last rank, as Python's dict(zip(merges, ranks)) does.
      this.#ranks.set(pairKey(left, right), rank++);
    }
  }

  /** The symbols of `word` (byte symbols, no suffix yet) after all merges, the last with "</w>". */
  encode(word: string): readonly string[] {
    const cached = this.#cache.get(word);
    if (cached !== undefined) return cached;
    const symbols = this.#merge(initialSymbols(word));
    if (this.#cache.size >= CACHE_SIZE) this.#cache.delete(this.#cache.keys().next().value!);
    this.#cache.set(word, symbols);
    return symbols;
  }

  #merge(symbols: string[]): string[] {
    while (symbols.length > 1) {
      const best = this.#lowestRankedPair(symbols);
      if (best === undefined) break;
      symbols = mergeEverywhere(symbols, symbols[best]!, symbols[best + 1]!);
    }
    return symbols;
  }

  /** Index of the left symbol of the adjacent pair with the lowest rank, if any pair is ranked. */
  #lowestRankedPair(symbols: readonly string[]): number | undefined {
    let best: number | undefined;
    let bestRank = Infinity;
    for (let i = 0; i + 1 < symbols.length; i++) {
      const rank = this.#ranks.get(pairKey(symbols[i]!, symbols[i + 1]!));
      if (rank !== undefined && rank < bestRank) {
        best = i;
        bestRank = rank;
      }
    }
    return best;
  }
}

// Byte symbols never include a space (byte 0x20 is "Ġ"), so a space separates a pair unambiguously.
function pairKey(left: string, right: string): string {
  return `${left} ${right}`;
}

/** One symbol per UTF-16 unit: byte symbols are all below U+0200, so units are characters. */
function initialSymbols(word: string): string[] {
  const symbols = word.split("");
  symbols[symbols.length - 1] += END_OF_WORD;
  return symbols;
}

function mergeEverywhere(symbols: readonly string[], left: string, right: string): string[] {
  const merged: string[] = [];
  for (let i = 0; i < symbols.length; i++) {
    if (symbols[i] === left && symbols[i + 1] === right) {
      merged.push(left + right);
      i++;
    } else {
      merged.push(symbols[i]!);
    }
  }
  return merged;
}
