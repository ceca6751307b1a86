/**
 * ClipTokenizer against openai/CLIP's SimpleTokenizer (test/fixtures/clip-tokenizer.json, made by
 * tools/reference/clip_tokenize.py with ftfy.fix_text stubbed as NFC normalization), on CLIP's real
 * 49,408-token vocabulary (test/fixtures/clip-bpe/, openai/CLIP's file, MIT licence beside it). Ids must be
 * equal, no tolerance. The folder loaders are checked on the same vocabulary written in the formats
 * Hugging Face saves (vocab.json + merges.txt, tokenizer.json).
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bytesToUnicode } from "../../src/inference/tokenizer/byte-level.ts";
import { ClipTokenizer } from "../../src/inference/tokenizer/clip-tokenizer.ts";
import { htmlUnescape } from "../../src/inference/tokenizer/html-unescape.ts";
import { readClipBpeFile } from "../../src/inference/tokenizer/load-tokenizer.ts";
import { type TokenizerDefinition, TokenizerFilesError } from "../../src/inference/tokenizer/tokenizer-definition.ts";
import { makeTempDir } from "../support/temp-dir.ts";

interface FixtureCase {
  name: string;
  text: string;
  tokens: number[];
  padEndOfText: number[];
  padZero: number[];
}
interface Fixture {
  bpeSha256: string;
  vocabSize: number;
  maxLength: number;
  cases: FixtureCase[];
  htmlUnescape: { input: string; output: string }[];
}

const fixture = JSON.parse(readFileSync(new URL("../fixtures/clip-tokenizer.json", import.meta.url), "utf8")) as Fixture;
const BPE_FILE = fileURLToPath(new URL("../fixtures/clip-bpe/bpe_simple_vocab_16e6.txt.gz", import.meta.url));
const START = "<|startoftext|>";
const END = "<|endoftext|>";

let definition: TokenizerDefinition;
let tokenizer: ClipTokenizer;
let tempDir: string;

beforeAll(async () => {
  expect(createHash("sha256").update(readFileSync(BPE_FILE)).digest("hex"), "the BPE file the fixture was made from").toBe(fixture.bpeSha256);
  definition = await readClipBpeFile(BPE_FILE);
  tokenizer = new ClipTokenizer(definition);
  tempDir = await makeTempDir("clip-tokenizer");
});

afterAll(async () => {
  if (tempDir) await rm(tempDir, { recursive: true, force: true });
});

/** A folder under the temp dir holding `files` (name → contents). */
async function tokenizerFolder(name: string, files: Record<string, string>): Promise<string> {
  const dir = path.join(tempDir, name);
  await mkdir(dir, { recursive: true });
  await Promise.all(Object.entries(files).map(([file, text]) => writeFile(path.join(dir, file), text)));
  return dir;
}

function sortedObject(vocab: ReadonlyMap<string, number>): Record<string, number> {
  return Object.fromEntries([...vocab].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** CLIPTokenizer.save_vocabulary's two files. */
function slowTokenizerFiles(source: TokenizerDefinition): Record<string, string> {
  return {
    "vocab.json": `${JSON.stringify(sortedObject(source.vocab), null, 2)}\n`,
    "merges.txt": `#version: 0.2\n${source.merges.map(([left, right]) => `${left} ${right}\n`).join("")}`,
  };
}

function specialTokensMap(padToken: unknown): string {
  const added = (content: string) => ({ content, lstrip: false, normalized: true, rstrip: false, single_word: false });
  return JSON.stringify({ bos_token: added(START), eos_token: added(END), pad_token: padToken, unk_token: added(END) }, null, 2);
}

/** tokenizer.json as the fast CLIPTokenizer saves it; `pairMerges` for the newer ["a", "b"] merges. */
function tokenizerJson(source: TokenizerDefinition, options: { pairMerges: boolean; padding?: unknown }): string {
  const added = (content: string) => ({ id: source.vocab.get(content), content, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true });
  const pattern = "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+";
  return JSON.stringify({
    version: "1.0",
    truncation: null,
    padding: options.padding ?? null,
    added_tokens: [added(START), added(END)],
    normalizer: { type: "Sequence", normalizers: [{ type: "NFC" }, { type: "Replace", pattern: { Regex: "\\s+" }, content: " " }, { type: "Lowercase" }] },
    pre_tokenizer: { type: "Sequence", pretokenizers: [{ type: "Split", pattern: { Regex: pattern }, behavior: "Removed", invert: true }, { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: false }] },
    post_processor: { type: "RobertaProcessing", sep: [END, source.eosTokenId], cls: [START, source.bosTokenId], trim_offsets: false, add_prefix_space: false },
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: END,
      continuing_subword_prefix: "",
      end_of_word_suffix: "</w>",
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: sortedObject(source.vocab),
      merges: source.merges.map(([left, right]) => (options.pairMerges ? [left, right] : `${left} ${right}`)),
    },
  });
}

function expectFixtureIds(loaded: ClipTokenizer, padding: "padEndOfText" | "padZero"): void {
  for (const testCase of fixture.cases) {
    expect(Array.from(loaded.encode(testCase.text)), testCase.name).toEqual(testCase[padding]);
  }
}

describe("ClipTokenizer against openai/CLIP's SimpleTokenizer", () => {
  it("has CLIP's vocabulary, special ids and length", () => {
    expect(definition.vocab.size).toBe(fixture.vocabSize);
    expect([tokenizer.bosTokenId, tokenizer.eosTokenId, tokenizer.padTokenId, tokenizer.modelMaxLength]).toEqual([49406, 49407, 49407, 77]);
  });

  it('encodes "a photo of a cat" as CLIP does', () => {
    expect(Array.from(tokenizer.encode("a photo of a cat")).slice(0, 8)).toEqual([49406, 320, 1125, 539, 320, 2368, 49407, 49407]);
  });

  it.each(fixture.cases.map((testCase) => [testCase.name, testCase] as const))("%s: tokens and 77 padded ids", (_name, testCase) => {
    expect(tokenizer.tokenize(testCase.text)).toEqual(testCase.tokens);
    expect(Array.from(tokenizer.encode(testCase.text))).toEqual(testCase.padEndOfText);
  });

  it("keeps BOS, the first 75 tokens and EOS of a longer prompt", () => {
    const long = fixture.cases.find((testCase) => testCase.tokens.length > fixture.maxLength)!;
    const ids = tokenizer.encode(long.text);
    expect(ids.length).toBe(77);
    expect(Array.from(ids)).toEqual([49406, ...long.tokens.slice(0, 75), 49407]);
  });

  it("pads and truncates to maxLength, which must leave room for BOS and EOS", () => {
    expect(Array.from(tokenizer.encode("a photo of a cat", { maxLength: 4 }))).toEqual([49406, 320, 1125, 49407]);
    expect(Array.from(tokenizer.encode("a cat", { maxLength: 6 }))).toEqual([49406, 320, 2368, 49407, 49407, 49407]);
    expect(Array.from(tokenizer.encode("a cat", { maxLength: 2 }))).toEqual([49406, 49407]);
    expect(() => tokenizer.encode("a cat", { maxLength: 1 })).toThrow(/maxLength must be an integer of at least 2.*got 1/);
    expect(() => tokenizer.encode("a cat", { maxLength: 7.5 })).toThrow(RangeError);
  });

  it("unescapes every supported HTML reference as Python's html.unescape does", () => {
    const wrong = fixture.htmlUnescape.filter(({ input, output }) => htmlUnescape(input) !== output);
    expect(wrong).toEqual([]);
    expect(fixture.htmlUnescape.length).toBeGreaterThan(400);
  });
});

describe("ClipTokenizer.fromFolder", () => {
  it("vocab.json + merges.txt (SD 1.x tokenizer/) give the same ids, padded with <|endoftext|>", async () => {
    const dir = await tokenizerFolder("sd1", {
      ...slowTokenizerFiles(definition),
      "special_tokens_map.json": specialTokensMap(END),
      "tokenizer_config.json": JSON.stringify({ model_max_length: 77, pad_token: END, tokenizer_class: "CLIPTokenizer" }),
    });
    const loaded = await ClipTokenizer.fromFolder(dir);
    expect([loaded.bosTokenId, loaded.eosTokenId, loaded.padTokenId, loaded.modelMaxLength]).toEqual([49406, 49407, 49407, 77]);
    expectFixtureIds(loaded, "padEndOfText");
  });

  it("SD 2.x's special_tokens_map.json pads with ! (id 0), written as an AddedToken object", async () => {
    const dir = await tokenizerFolder("sd2", {
      ...slowTokenizerFiles(definition),
      "special_tokens_map.json": specialTokensMap({ content: "!", lstrip: false, normalized: false, rstrip: false, single_word: false }),
      "tokenizer_config.json": JSON.stringify({ model_max_length: 77, pad_token: END }),
    });
    const loaded = await ClipTokenizer.fromFolder(dir);
    expect(loaded.padTokenId).toBe(0);
    expectFixtureIds(loaded, "padZero");
  });

  it('tokenizer.json with "a b" merges gives the same ids; its padding.pad_token is read', async () => {
    const sd1 = await ClipTokenizer.fromFolder(await tokenizerFolder("fast-strings", { "tokenizer.json": tokenizerJson(definition, { pairMerges: false }) }));
    expect(sd1.padTokenId).toBe(49407);
    expectFixtureIds(sd1, "padEndOfText");
    const padding = { strategy: { Fixed: 77 }, direction: "Right", pad_to_multiple_of: null, pad_id: 0, pad_type_id: 0, pad_token: "!" };
    const sd2 = await ClipTokenizer.fromFolder(await tokenizerFolder("fast-padding", { "tokenizer.json": tokenizerJson(definition, { pairMerges: false, padding }) }));
    expect(sd2.padTokenId).toBe(0);
  });

  it('tokenizer.json with ["a", "b"] merges gives the same ids; special_tokens_map.json sets the pad', async () => {
    const dir = await tokenizerFolder("fast-pairs", {
      "tokenizer.json": tokenizerJson(definition, { pairMerges: true }),
      "special_tokens_map.json": specialTokensMap("!"),
      "tokenizer_config.json": JSON.stringify({ model_max_length: 77, pad_token: END }),
    });
    const loaded = await ClipTokenizer.fromFolder(dir);
    expect(loaded.padTokenId).toBe(0); // special_tokens_map.json wins over tokenizer_config.json
    expectFixtureIds(loaded, "padZero");
  });

  it("fromFiles reads the files it is given", async () => {
    const dir = await tokenizerFolder("named-files", { ...slowTokenizerFiles(definition), "special_tokens_map.json": specialTokensMap("!") });
    const loaded = await ClipTokenizer.fromFiles({
      vocabJson: path.join(dir, "vocab.json"),
      mergesTxt: path.join(dir, "merges.txt"),
      specialTokensMap: path.join(dir, "special_tokens_map.json"),
    });
    expect(Array.from(loaded.encode("a photo of a cat")).slice(0, 8)).toEqual([49406, 320, 1125, 539, 320, 2368, 49407, 0]);
  });

  it("reads model_max_length when it is a sane length and ignores Hugging Face's 1e30 placeholder", async () => {
    const files = slowTokenizerFiles(definition);
    const long = await ClipTokenizer.fromFolder(await tokenizerFolder("max-248", { ...files, "tokenizer_config.json": '{"model_max_length": 248}' }));
    expect(long.modelMaxLength).toBe(248);
    expect(long.encode("a cat").length).toBe(248);
    const unset = await ClipTokenizer.fromFolder(await tokenizerFolder("max-1e30", { ...files, "tokenizer_config.json": '{"model_max_length": 1000000000000000019884624838656}' }));
    expect(unset.modelMaxLength).toBe(77);
  });

  it("takes BOS, EOS and pad ids from a small vocabulary, not CLIP's numbers", async () => {
    const bytes = [...bytesToUnicode().values()];
    const tokens = [...bytes, ...bytes.map((symbol) => `${symbol}</w>`), "ca", "cat</w>", START, END];
    const small = await ClipTokenizer.fromFolder(
      await tokenizerFolder("small", {
        "vocab.json": JSON.stringify(Object.fromEntries(tokens.map((token, id) => [token, id]))),
        "merges.txt": "#version: 0.2\nc a\nca t</w>\n",
        "special_tokens_map.json": specialTokensMap(END),
      }),
    );
    expect([small.bosTokenId, small.eosTokenId, small.padTokenId]).toEqual([514, 515, 515]);
    expect(Array.from(small.encode("A cat!", { maxLength: 7 }))).toEqual([514, 320, 513, 256, 515, 515, 515]);
  });
});

describe("tokenizer folder errors", () => {
  it("an empty folder: one error naming every file that would do", async () => {
    const dir = await tokenizerFolder("empty", {});
    const error = await ClipTokenizer.fromFolder(dir).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TokenizerFilesError);
    expect((error as TokenizerFilesError).problems).toEqual([
      "vocab.json: missing (a tokenizer folder needs tokenizer.json, or vocab.json and merges.txt)",
      "merges.txt: missing (a tokenizer folder needs tokenizer.json, or vocab.json and merges.txt)",
    ]);
    expect((error as Error).message).toContain(dir);
  });

  it("missing and invalid files are all listed in one error", async () => {
    const dir = await tokenizerFolder("broken", {
      "vocab.json": "{ not json",
      "special_tokens_map.json": JSON.stringify({ pad_token: 5 }),
      "tokenizer_config.json": JSON.stringify({ added_tokens_decoder: { "49406": { special: true } } }),
    });
    const error = (await ClipTokenizer.fromFolder(dir).catch((caught: unknown) => caught)) as TokenizerFilesError;
    expect(error.problems).toHaveLength(4);
    expect(error.problems[0]).toMatch(/^vocab\.json: not valid JSON/);
    expect(error.problems[1]).toMatch(/^merges\.txt: missing/);
    expect(error.problems[2]).toBe('special_tokens_map.json: pad_token must be a string or an object with a string "content", got 5');
    expect(error.problems[3]).toBe('tokenizer_config.json: added_tokens_decoder["49406"] must be a string or an object with a string "content", got {"special":true}');
  });

  it("malformed merges, bad tokenizer.json merges and an unknown pad token are named", async () => {
    const badMerge = await ClipTokenizer.fromFolder(await tokenizerFolder("bad-merge", { "vocab.json": '{"a": 0}', "merges.txt": "#version: 0.2\na b\nabc\n" })).catch((caught: unknown) => caught);
    expect((badMerge as TokenizerFilesError).problems).toEqual(['merges.txt: line 3 must be two symbols separated by one space, got "abc"']);
    const fast = JSON.stringify({ model: { type: "BPE", vocab: { a: 0 }, merges: [["a"]] } });
    const badPair = await ClipTokenizer.fromFolder(await tokenizerFolder("bad-pair", { "tokenizer.json": fast })).catch((caught: unknown) => caught);
    expect((badPair as TokenizerFilesError).problems).toEqual(['tokenizer.json: model.merges[0] must be "left right" or ["left", "right"], got ["a"]']);
    const files = { ...slowTokenizerFiles(definition), "special_tokens_map.json": specialTokensMap("<pad>") };
    const badPad = await ClipTokenizer.fromFolder(await tokenizerFolder("bad-pad", files)).catch((caught: unknown) => caught);
    expect((badPad as TokenizerFilesError).problems).toEqual(['pad_token (special_tokens_map.json) "<pad>" is not in the vocabulary (vocab.json)']);
  });

  it("a folder that does not exist, and a named file that does not exist", async () => {
    await expect(ClipTokenizer.fromFolder(path.join(tempDir, "nowhere"))).rejects.toThrow(/nowhere.*cannot read the folder/s);
    const missing = path.join(tempDir, "elsewhere", "tokenizer.json");
    await expect(ClipTokenizer.fromFiles({ tokenizerJson: missing })).rejects.toThrow("tokenizer.json: missing");
  });
});
