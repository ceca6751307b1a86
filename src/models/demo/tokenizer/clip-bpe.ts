/**
 * A small but real CLIP byte-level BPE vocabulary, in the order OpenAI's CLIP builds its own
 * (simple_tokenizer.py): the 256 byte symbols, the same with "</w>", one token per merge, then
 * <|startoftext|> and <|endoftext|>. Merges are learned deterministically from a word list.
 */
import { bytesToUnicode } from "../../../inference/tokenizer/byte-level.ts";

/** The vocabulary and merges of a learned BPE. */
export interface ClipBpe {
  /** token → id, ids dense from 0. */
  readonly vocab: ReadonlyMap<string, number>;
  /** Merge rules in priority order, each "left right". */
  readonly merges: readonly string[];
}

/**
 * Learns `mergeCount` merges over `words` (each word split into byte symbols, the last one
 * marked "</w>"): repeatedly merges the most frequent adjacent pair, ties broken by the
 * lexicographically smallest "left right" string, until `mergeCount` merges or every word is
 * one symbol. Pairs seen once still merge, so most listed words end up as whole-word tokens.
 */
export function learnClipBpe(words: readonly string[], mergeCount: number): ClipBpe {
  const byteSymbols = bytesToUnicode();
  let corpus = words.map((word) => wordSymbols(word, byteSymbols));
  const alphabet = [...byteSymbols.values()];
  const merges: string[] = [];
  while (merges.length < mergeCount) {
    const best = mostFrequentPair(corpus);
    if (best === undefined) break;
    merges.push(best);
    const [left, right] = best.split(" ") as [string, string];
    corpus = corpus.map((symbols) => mergePair(symbols, left, right));
  }
  const tokens = [...alphabet, ...alphabet.map((s) => `${s}</w>`), ...merges.map((m) => m.replace(" ", ""))];
  tokens.push("<|startoftext|>", "<|endoftext|>");
  // Two merges can spell the same token ("a bc", "ab c"); it gets one id, as in a JSON vocab.
  const unique = [...new Set(tokens)];
  return { vocab: new Map(unique.map((token, id) => [token, id])), merges };
}

function wordSymbols(word: string, byteSymbols: ReadonlyMap<number, string>): string[] {
  const symbols = [...new TextEncoder().encode(word.toLowerCase())].map((b) => byteSymbols.get(b)!);
  symbols[symbols.length - 1] += "</w>";
  return symbols;
}

function mostFrequentPair(corpus: readonly string[][]): string | undefined {
  const counts = new Map<string, number>();
  for (const symbols of corpus) {
    for (let i = 0; i + 1 < symbols.length; i++) {
      const pair = `${symbols[i]} ${symbols[i + 1]}`;
      counts.set(pair, (counts.get(pair) ?? 0) + 1);
    }
  }
  let best: string | undefined;
  let bestCount = 0;
  for (const [pair, count] of counts) {
    if (count > bestCount || (count === bestCount && best !== undefined && pair < best)) {
      best = pair;
      bestCount = count;
    }
  }
  return best;
}

function mergePair(symbols: readonly string[], left: string, right: string): string[] {
  const merged: string[] = [];
  for (let i = 0; i < symbols.length; i++) {
    if (i + 1 < symbols.length && symbols[i] === left && symbols[i + 1] === right) {
      merged.push(left + right);
      i++;
    } else {
      merged.push(symbols[i]!);
    }
  }
  return merged;
}
