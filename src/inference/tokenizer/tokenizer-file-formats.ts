/**
 * Parsers for the files a CLIP tokenizer comes in. Each takes a file's text and returns what it
 * defines, or throws an Error whose message says what is wrong (the loader adds the file name).
 *
 * - slow CLIPTokenizer (`save_pretrained`): vocab.json, merges.txt, special_tokens_map.json,
 *   tokenizer_config.json — what Stable Diffusion ONNX exports carry in tokenizer/;
 * - fast tokenizer: tokenizer.json (`model.vocab`, `model.merges` as "a b" strings or, in newer
 *   files, ["a", "b"] pairs, `added_tokens`, `padding`) — what transformers.js CLIP folders carry;
 * - openai/CLIP's bpe_simple_vocab_16e6.txt: a header line, then one merge per line.
 */
import { bytesToUnicode } from "./byte-level.ts";
import { END_OF_WORD, type Merge } from "./bpe.ts";
import { END_OF_TEXT, START_OF_TEXT } from "./tokenizer-definition.ts";

/** A BPE model: vocabulary (added tokens merged in) and merge rules. */
export interface BpeModel {
  readonly vocab: Map<string, number>;
  readonly merges: Merge[];
}

/** Special-token names and the length limit a file declares; each is undefined when not given. */
export interface TokenizerSettings {
  readonly padToken?: string | undefined;
  readonly unkToken?: string | undefined;
  readonly modelMaxLength?: unknown;
  /** Tokens the file adds to the vocabulary (tokenizer_config.json's added_tokens_decoder). */
  readonly addedTokens?: ReadonlyMap<string, number>;
}

/** vocab.json: `{ "token": id, … }`. */
export function parseVocabJson(text: string): Map<string, number> {
  return vocabFromObject(parseJsonObject(text), "the file");
}

/** merges.txt: an optional "#version" header, then "left right" per line. */
export function parseMergesTxt(text: string): Merge[] {
  const lines = text.split(/\r?\n/);
  const first = lines[0]?.startsWith("#version") ? 1 : 0;
  const merges: Merge[] = [];
  for (let i = first; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === "") continue;
    merges.push(mergeFromString(line, `line ${i + 1}`));
  }
  return merges;
}

/** tokenizer.json of a BPE model with CLIP's "</w>" suffix; its padding and unk token as settings. */
export function parseTokenizerJson(text: string): BpeModel & TokenizerSettings {
  const file = parseJsonObject(text);
  const model = asObject(file["model"], "model");
  if (model["type"] !== undefined && model["type"] !== "BPE") throw new Error(`model.type is ${JSON.stringify(model["type"])}, expected "BPE"`);
  const suffix = model["end_of_word_suffix"];
  if (suffix !== undefined && suffix !== END_OF_WORD) throw new Error(`model.end_of_word_suffix is ${JSON.stringify(suffix)}; CLIP's BPE uses "${END_OF_WORD}"`);
  const vocab = vocabFromObject(asObject(model["vocab"], "model.vocab"), "model.vocab");
  for (const [token, id] of addedTokensList(file["added_tokens"])) vocab.set(token, id);
  const padding = file["padding"] === null || file["padding"] === undefined ? {} : asObject(file["padding"], "padding");
  return {
    vocab,
    merges: asArray(model["merges"], "model.merges").map((merge, i) => mergeFromJson(merge, `model.merges[${i}]`)),
    padToken: tokenName(padding["pad_token"], "padding.pad_token"),
    unkToken: tokenName(model["unk_token"], "model.unk_token"),
  };
}

/** special_tokens_map.json: `{ "pad_token": "!" | { "content": "!", … }, … }`. */
export function parseSpecialTokensMap(text: string): TokenizerSettings {
  const file = parseJsonObject(text);
  return { padToken: tokenName(file["pad_token"], "pad_token"), unkToken: tokenName(file["unk_token"], "unk_token") };
}

/** tokenizer_config.json: special tokens as in special_tokens_map.json, model_max_length, added_tokens_decoder. */
export function parseTokenizerConfig(text: string): TokenizerSettings {
  const file = parseJsonObject(text);
  const decoder = file["added_tokens_decoder"] === undefined ? {} : asObject(file["added_tokens_decoder"], "added_tokens_decoder");
  const addedTokens = new Map<string, number>();
  for (const [id, token] of Object.entries(decoder)) {
    const key = `added_tokens_decoder["${id}"]`;
    addedTokens.set(addedTokenName(token, key), tokenId(Number(id), key));
  }
  return {
    padToken: tokenName(file["pad_token"], "pad_token"),
    unkToken: tokenName(file["unk_token"], "unk_token"),
    modelMaxLength: file["model_max_length"],
    addedTokens,
  };
}

/**
 * openai/CLIP's BPE file, read as `SimpleTokenizer` reads it: lines 2 … 48895 are the merges; the
 * vocabulary is the 256 byte symbols, the same with "</w>", each merge joined, then
 * `<|startoftext|>` and `<|endoftext|>` (a token spelled twice keeps its later id, as a dict does).
 */
export function parseClipBpeText(text: string): BpeModel {
  const merges = text.split("\n").slice(1, 49152 - 256 - 2 + 1).map((line, i) => mergeFromString(line.trim(), `line ${i + 2}`));
  const byteSymbols = [...bytesToUnicode().values()];
  const tokens = [...byteSymbols, ...byteSymbols.map((symbol) => symbol + END_OF_WORD), ...merges.map(([left, right]) => left + right)];
  tokens.push(START_OF_TEXT, END_OF_TEXT);
  return { vocab: new Map(tokens.map((token, id) => [token, id])), merges };
}

function parseJsonObject(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`not valid JSON (${(error as Error).message})`);
  }
  return asObject(value, "the file");
}

function asObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  throw new Error(`${what} must be a JSON object, got ${describe(value)}`);
}

function asArray(value: unknown, what: string): unknown[] {
  if (Array.isArray(value)) return value;
  throw new Error(`${what} must be an array, got ${describe(value)}`);
}

function vocabFromObject(object: Record<string, unknown>, what: string): Map<string, number> {
  const vocab = new Map<string, number>();
  for (const [token, id] of Object.entries(object)) vocab.set(token, tokenId(id, `${what}["${token}"]`));
  if (vocab.size === 0) throw new Error(`${what} is empty`);
  return vocab;
}

function tokenId(value: unknown, what: string): number {
  if (Number.isSafeInteger(value) && (value as number) >= 0) return value as number;
  throw new Error(`${what} must be a token id (an integer ≥ 0), got ${describe(value)}`);
}

/** A special token as the files write it: a string, or an AddedToken object with `content`; null = none. */
function tokenName(value: unknown, what: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string") return value;
  const content = typeof value === "object" ? (value as Record<string, unknown>)["content"] : undefined;
  if (typeof content === "string") return content;
  throw new Error(`${what} must be a string or an object with a string "content", got ${describe(value)}`);
}

function addedTokenName(value: unknown, what: string): string {
  const name = tokenName(value, what);
  if (name !== undefined) return name;
  throw new Error(`${what} must name a token, got ${describe(value)}`);
}

/** tokenizer.json's added_tokens: `[{ "id": 49406, "content": "<|startoftext|>", … }, …]`. */
function addedTokensList(value: unknown): Map<string, number> {
  const added = new Map<string, number>();
  if (value === undefined || value === null) return added;
  asArray(value, "added_tokens").forEach((entry, i) => {
    const token = asObject(entry, `added_tokens[${i}]`);
    added.set(addedTokenName(token, `added_tokens[${i}]`), tokenId(token["id"], `added_tokens[${i}].id`));
  });
  return added;
}

function mergeFromString(line: string, what: string): Merge {
  const parts = line.split(" ");
  if (parts.length === 2 && parts[0] !== "" && parts[1] !== "") return [parts[0]!, parts[1]!];
  throw new Error(`${what} must be two symbols separated by one space, got ${JSON.stringify(line)}`);
}

function mergeFromJson(value: unknown, what: string): Merge {
  if (typeof value === "string") return mergeFromString(value, what);
  if (Array.isArray(value) && value.length === 2 && value.every((part) => typeof part === "string" && part !== "")) {
    return [value[0] as string, value[1] as string];
  }
  throw new Error(`${what} must be "left right" or ["left", "right"], got ${describe(value)}`);
}

function describe(value: unknown): string {
  const json = JSON.stringify(value);
  return json === undefined ? String(value) : json.length > 60 ? `${json.slice(0, 57)}...` : json;
}
