/** Segment `messageId`s from Currents ids (Segment deduplicates on them), and the SHA-256 the field policy uses. */
import { createHash } from 'node:crypto';

/** Currents ids longer than this are replaced by a prefixed hash in `messageId`. */
export const MAX_MESSAGE_ID_LENGTH = 100;
/** Prefix of hashed message ids. A Currents id that itself starts with it is hashed too, so the two never collide. */
export const HASHED_ID_PREFIX = 'currents-sha256:';

export function sha256Hex(s: string): string {
  return createHash('sha256').update(s, 'utf8').digest('hex');
}

/** The Segment messageId for a Currents id: the id itself, or a prefixed SHA-256 when it is too long for Segment. */
export function segmentMessageId(id: string): string {
  return id.length > MAX_MESSAGE_ID_LENGTH || id.startsWith(HASHED_ID_PREFIX) ? HASHED_ID_PREFIX + sha256Hex(id) : id;
}
