/**
 * JSON's structural bytes and whitespace, for the code that reads or writes JSON as bytes without parsing it (the
 * receiver's envelope scan, the storage import's Avro-to-JSON transcoder and its chunks). Pure.
 */
export const QUOTE = 0x22;
export const BACKSLASH = 0x5c;
export const OPEN_OBJECT = 0x7b;
export const CLOSE_OBJECT = 0x7d;
export const OPEN_ARRAY = 0x5b;
export const CLOSE_ARRAY = 0x5d;
export const COMMA = 0x2c;
export const COLON = 0x3a;

/** JSON's insignificant whitespace: space, line feed, carriage return, tab. */
export const isJsonWhitespace = (b: number | undefined) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

/** The first index at or after `from` that is not JSON whitespace (`bytes.length` when there is none). */
export function skipJsonWhitespace(bytes: Uint8Array, from: number): number {
  let i = from;
  while (i < bytes.length && isJsonWhitespace(bytes[i])) i++;
  return i;
}
