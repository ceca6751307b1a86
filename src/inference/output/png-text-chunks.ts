/**
 * Text chunks in PNG files. sharp writes no custom text, so chunks are spliced in after encoding:
 * `tEXt` when the text is Latin-1 (the PNG rule for tEXt), else `iTXt` in UTF-8, which is what
 * PIL's `PngInfo.add_text` (and so AUTOMATIC1111) does.
 */
import { crc32 } from "node:zlib";

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export function addTextChunk(png: Buffer, keyword: string, text: string): Buffer {
  assertPng(png);
  const latin1 = /^[\u0000-\u00ff]*$/u.test(text);
  const data = latin1
    ? Buffer.concat([Buffer.from(keyword, "latin1"), Buffer.from([0]), Buffer.from(text, "latin1")])
    : // keyword, NUL, compression flag 0, method 0, empty language tag NUL, empty translated keyword NUL, UTF-8 text
      Buffer.concat([Buffer.from(keyword, "latin1"), Buffer.from([0, 0, 0, 0, 0]), Buffer.from(text, "utf8")]);
  const chunk = encodeChunk(latin1 ? "tEXt" : "iTXt", data);
  // Right after IHDR (the first chunk: 8-byte signature + 25-byte IHDR), so readers that stop at IDAT see it.
  const afterHeader = SIGNATURE.length + 25;
  return Buffer.concat([png.subarray(0, afterHeader), chunk, png.subarray(afterHeader)]);
}

/** Every tEXt and uncompressed iTXt chunk, keyword → text. */
export function readTextChunks(png: Buffer): Map<string, string> {
  assertPng(png);
  const texts = new Map<string, string>();
  for (let offset = SIGNATURE.length; offset + 12 <= png.length; ) {
    const length = png.readUInt32BE(offset);
    const type = png.toString("latin1", offset + 4, offset + 8);
    const data = png.subarray(offset + 8, offset + 8 + length);
    const separator = data.indexOf(0);
    if (type === "tEXt" && separator > 0) texts.set(data.toString("latin1", 0, separator), data.toString("latin1", separator + 1));
    if (type === "iTXt" && separator > 0 && data[separator + 1] === 0) {
      const languageEnd = data.indexOf(0, separator + 3);
      const translatedEnd = data.indexOf(0, languageEnd + 1);
      texts.set(data.toString("latin1", 0, separator), data.toString("utf8", translatedEnd + 1));
    }
    offset += 12 + length;
  }
  return texts;
}

function encodeChunk(type: string, data: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(data.length, 0);
  header.write(type, 4, "latin1");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([header.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([header, data, crc]);
}

function assertPng(png: Buffer): void {
  if (!png.subarray(0, 8).equals(SIGNATURE) || png.toString("latin1", 12, 16) !== "IHDR") throw new Error("Not a PNG file");
}
