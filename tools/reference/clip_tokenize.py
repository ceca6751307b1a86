"""Reference ids for src/inference/tokenizer: writes test/fixtures/clip-tokenizer.json.

Runs openai/CLIP's own tokenizer (`simple_tokenizer.py`, imported by path from $OPENAI_CLIP_DIR, see openai_tokenizer.py) on
CLIP's BPE file and records, for a varied list of prompts, the token ids and the 77-id sequences a
Stable Diffusion pipeline feeds its text encoder: BOS, the first 75 tokens, EOS, then the pad id,
once with SD 1.x's pad (`<|endoftext|>`, 49407) and once with SD 2.x's (`!`, id 0).

Run:  OPENAI_CLIP_DIR=<openai/CLIP checkout> /usr/bin/python3 tools/reference/clip_tokenize.py

`ftfy` is not installed for Debian's Python, so `ftfy.fix_text` is stubbed, through sys.modules,
with `unicodedata.normalize("NFC", text)`: fix_text's last step, and the only part of it the
TypeScript port implements. When ftfy's wheels are found (--ftfy-wheels, a folder holding
ftfy-*.whl and wcwidth-*.whl), each case is also tokenized with the real ftfy.fix_text and the
cases where it changes the ids are recorded (`realFtfyTokens`): the known gap, as data.

The fixture also pins Python's html.unescape on every named reference the port supports
(`htmlUnescape`), so the TypeScript entity table is checked entry by entry.
"""

import argparse
import gzip
import hashlib
import html
import importlib
import importlib.util
import json
import re
import sys
import types
import unicodedata
from html.entities import html5, name2codepoint
from pathlib import Path

from openai_tokenizer import clip_tokenizer_source  # noqa: E402 (tools/reference is the script folder)

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "test" / "fixtures" / "clip-tokenizer.json"
DEFAULT_BPE = REPO / "test" / "fixtures" / "clip-bpe" / "bpe_simple_vocab_16e6.txt.gz"
MAX_LENGTH = 77
SD1_PAD_TOKEN = "<|endoftext|>"
SD2_PAD_TOKEN = "!"

LONG_PROMPT = (
    "a highly detailed matte painting of a sprawling medieval city on a cliff above a stormy sea, "
    "golden hour light breaking through dark clouds, tiny ships in the harbour, seagulls, banners "
    "waving from the towers, cobblestone streets full of merchants and travellers, lanterns, "
    "smoke rising from chimneys, intricate architecture, volumetric fog, dramatic composition, "
    "by greg rutkowski and thomas kinkade, trending on artstation, octane render, 8k, masterpiece"
)

CASES = [
    ("basic", "a photo of a cat"),
    ("upper case", "A PHOTO OF A CAT"),
    ("mixed case", "McDonald's iPhone NASA"),
    ("punctuation runs", "wow!!! really?!? ... (((masterpiece))) [best quality:1.2] a--b"),
    ("symbols", "#hashtag @user $100% 50/50 a+b=c ~*^_^*~"),
    ("contractions", "don't it'll I'm we've they're she'd the cat's toy"),
    ("upper contractions", "DON'T IT'LL I'M"),
    ("odd apostrophes", "rock'n'roll 's' '' 'tis ' s"),
    ("long s after apostrophe", "it'\u017f"),
    ("digits", "1984 3.14 1,000,000 007"),
    ("other numerals", "x\u00b2 \u00bd \u2166 \u0663\u0664"),
    ("whitespace runs", "a   photo\tof\n\na  cat \r\n"),
    ("unicode whitespace", "a\u00a0photo\u3000of\u2003a\u0085cat\u2028"),
    ("only whitespace", " \t\n "),
    ("empty", ""),
    ("edge separators", "\x1c a cat \x1f"),
    ("inner separator", "a\x1dcat"),
    ("zero width and bom", "a\u200bcat \ufeffdog"),
    ("html entities", "cats &amp; dogs &lt;3 &gt; &quot;hi&quot; &#39;quoted&#39;"),
    ("double escaped entities", "salt &amp;amp; pepper, &amp;amp;amp; more, &amp;lt;b&amp;gt;"),
    ("legacy entities", "&copy 2024 &eacute;t&eacute; caf&eacutes &notit; &ampx &AMP &nbsp;gap"),
    ("numeric references", "&#x1F431; &#128; &#0; &#1;x &#x110000; &#99999999999999999999; &#65&#x42;"),
    ("unknown entities", "&foo; &bar &; & &#; &#x; &am"),
    ("accented latin", "caf\u00e9 cr\u00e8me br\u00fbl\u00e9e \u00fcber stra\u00dfe ni\u00f1o ma\u00f1ana"),
    ("decomposed accents", "cafe\u0301 u\u0308ber nin\u0303o"),
    ("upper accented", "CAF\u00c9 \u00dcBER STRASSE \u00c7A"),
    ("dotted capital i", "\u0130stanbul"),
    ("greek final sigma", "\u039f\u0394\u039f\u03a3 \u03a3\u039f\u03a6\u0399\u0391"),
    ("cyrillic", "\u041f\u0440\u0438\u0432\u0435\u0442 \u043c\u0438\u0440"),
    ("japanese", "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8"),
    ("chinese and korean", "\u732b \ud55c\uad6d\uc5b4"),
    ("arabic and hebrew", "\u0642\u0637\u0629 \u05d7\u05ea\u05d5\u05dc"),
    ("emoji", "\U0001f431 cat emoji \U0001f408\u200d\u2b1b \U0001f44d\U0001f3fd \u2764\ufe0f"),
    ("ftfy territory", "don\u2019t \u201cquoted\u201d \ufb01ne \uff21\uff22\uff23 \uff11\uff12"),
    ("special tokens in text", "<|startoftext|>hello<|endoftext|> <|ENDOFTEXT|> <|endoftext"),
    ("rare merges", "antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis zzyzx"),
    ("prompt words", "hyperrealistic bokeh cinematic lighting, octane render, unreal engine 5, 8k uhd"),
    ("misspellings", "photorealisitc beautful catt xylofone qwertyuiop"),
    ("long prompt", LONG_PROMPT),
    ("exactly 75 tokens", " ".join(["cat"] * 75)),
    ("76 tokens", " ".join(["cat"] * 76)),
]


def load_simple_tokenizer():
    """openai/CLIP's module with `ftfy` replaced by the NFC stub (it is imported at module load)."""
    stub = types.ModuleType("ftfy")
    stub.fix_text = lambda text: unicodedata.normalize("NFC", text)
    sys.modules["ftfy"] = stub
    spec = importlib.util.spec_from_file_location("clip_simple_tokenizer", clip_tokenizer_source())
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_real_ftfy(wheel_dir):
    """ftfy imported from its wheels (zip imports), or None when they are not there."""
    wheels = sorted(Path(wheel_dir).glob("ftfy-*.whl")) + sorted(Path(wheel_dir).glob("wcwidth-*.whl"))
    if len(wheels) < 2:
        return None
    stub = sys.modules.pop("ftfy")
    sys.path[:0] = [str(w) for w in wheels]
    try:
        return importlib.import_module("ftfy")
    finally:
        sys.modules["ftfy"] = stub


def padded(tokens, bos, eos, pad):
    ids = [bos] + tokens[: MAX_LENGTH - 2] + [eos]
    return ids + [pad] * (MAX_LENGTH - len(ids))


def html_unescape_cases():
    """Every name the port supports: HTML 4's entities, &apos;, and the names html5 accepts bare."""
    bare = sorted(k for k in html5 if not k.endswith(";"))
    names = sorted(set(name2codepoint) | {"apos"} | set(bare))
    inputs = [f"&{name};" for name in names] + [f"&{name}" for name in bare] + [f"&{name}x;" for name in bare]
    return [{"input": text, "output": html.unescape(text)} for text in inputs]


def to_json(value):
    """Indented JSON with id lists on one line; ASCII-only, so invisible characters stay visible."""
    text = json.dumps(value, ensure_ascii=True, indent=1)
    return re.sub(r"\[\s*(-?\d+(?:,\s*-?\d+)*)\s*\]", lambda m: "[" + ", ".join(n.strip() for n in m.group(1).split(",")) + "]", text) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bpe", default=str(DEFAULT_BPE), help="CLIP's bpe_simple_vocab_16e6.txt.gz")
    parser.add_argument("--ftfy-wheels", help="folder with ftfy-*.whl and wcwidth-*.whl (optional)")
    args = parser.parse_args()

    module = load_simple_tokenizer()
    tokenizer = module.SimpleTokenizer(args.bpe)
    real_ftfy = load_real_ftfy(args.ftfy_wheels) if args.ftfy_wheels else None
    bos, eos = tokenizer.encoder["<|startoftext|>"], tokenizer.encoder["<|endoftext|>"]
    pads = {"padEndOfText": tokenizer.encoder[SD1_PAD_TOKEN], "padZero": tokenizer.encoder[SD2_PAD_TOKEN]}
    assert tokenizer.encode("a photo of a cat") == [320, 1125, 539, 320, 2368], "not CLIP's vocabulary"

    cases = []
    for name, text in CASES:
        module.ftfy = sys.modules["ftfy"]
        tokens = tokenizer.encode(text)
        case = {"name": name, "text": text, "tokens": tokens}
        case.update({key: padded(tokens, bos, eos, pad) for key, pad in pads.items()})
        if real_ftfy is not None:
            module.ftfy = real_ftfy
            with_ftfy = tokenizer.encode(text)
            case["realFtfyTokens"] = with_ftfy if with_ftfy != tokens else None
        cases.append(case)
    assert len(cases[CASES.index(("long prompt", LONG_PROMPT))]["tokens"]) > MAX_LENGTH

    fixture = {
        "generatedBy": "tools/reference/clip_tokenize.py",
        "reference": "openai/CLIP simple_tokenizer.py (SimpleTokenizer.encode)",
        "ftfy": "stubbed: fix_text = unicodedata.normalize('NFC', text); the other ftfy fixes are not applied",
        "realFtfy": None if real_ftfy is None else f"ftfy {real_ftfy.__version__}: realFtfyTokens lists the ids where it differs, else null",
        "python": sys.version.split()[0],
        "unicodeVersion": unicodedata.unidata_version,
        "bpeFile": Path(args.bpe).name,
        "bpeSha256": hashlib.sha256(Path(args.bpe).read_bytes()).hexdigest(),
        "vocabSize": len(tokenizer.encoder),
        "maxLength": MAX_LENGTH,
        "bosTokenId": bos,
        "eosTokenId": eos,
        "padTokenIds": pads,
        "cases": cases,
        "htmlUnescape": html_unescape_cases(),
    }
    OUT.write_text(to_json(fixture), encoding="utf-8")
    differing = [c["name"] for c in cases if c.get("realFtfyTokens")]
    print(f"wrote {OUT.relative_to(REPO)}: {len(cases)} cases, {len(fixture['htmlUnescape'])} html.unescape cases")
    print(f"real ftfy: {fixture['realFtfy']}; cases it changes: {differing}")


if __name__ == "__main__":
    main()
