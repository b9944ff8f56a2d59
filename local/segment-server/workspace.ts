/** The local Segment server's workspace: its sources, their write keys and which keys were retired. */
import { randomBytes } from 'node:crypto';
import type { SegmentRegion } from '../../shared/connector';
import type { DiscardReason, SegmentServerOptions, SourceControls } from './types';

/** A source of the local workspace; `index` labels its events (`writeKey:<index>`). */
export interface SourceRecord {
  readonly id: string;
  readonly index: number;
  enabled: boolean;
  writeKeys: string[];
}

/** Who sent a tracking request: a source (by index), an OAuth app, or a write key whose events are discarded. */
export type Sender =
  | { kind: 'writeKey'; index: number; discard?: undefined }
  | { kind: 'writeKey'; discard: DiscardReason }
  | { kind: 'oauth'; appId: string; discard?: undefined };

function initialSources(options: SegmentServerOptions): SourceRecord[] {
  const keys = options.writeKeys ?? [];
  return [
    ...keys.map((key, index) => ({ id: `source-${index}`, index, enabled: true, writeKeys: [key] })),
    ...(options.sources ?? []).map((s, i) => ({
      id: s.id,
      index: keys.length + i,
      enabled: s.enabled ?? true,
      writeKeys: [...s.writeKeys],
    })),
  ];
}

/** The sources as the options define them; `controls` changes them as a person does in Segment's app. */
export class Workspace {
  private sources: SourceRecord[];
  /** Every write key a source of this server ever had: a key no longer among them was rotated or removed. */
  private retiredKeys = new Set<string>();
  readonly controls: SourceControls;

  constructor(
    private readonly options: SegmentServerOptions,
    private readonly region: SegmentRegion,
  ) {
    this.sources = initialSources(options);
    this.controls = {
      get: (id) => {
        const s = this.find(id);
        return s && { id: s.id, enabled: s.enabled, writeKeys: [...s.writeKeys] };
      },
      setEnabled: (id, enabled) => {
        this.byId(id).enabled = enabled;
      },
      rotateWriteKey: (id, opts = {}) => {
        const source = this.byId(id);
        const key = opts.newKey ?? `wk_rotated_${randomBytes(12).toString('hex')}`;
        if (!opts.keepOld) for (const old of source.writeKeys) this.retiredKeys.add(old);
        source.writeKeys = opts.keepOld ? [...source.writeKeys, key] : [key];
        this.retiredKeys.delete(key);
        return key;
      },
      removeWriteKey: (id, writeKey) => {
        const source = this.byId(id);
        source.writeKeys = source.writeKeys.filter((k) => k !== writeKey);
        this.retiredKeys.add(writeKey);
      },
    };
  }

  find(id: string): SourceRecord | undefined {
    return this.sources.find((s) => s.id === id);
  }

  private byId(id: string): SourceRecord {
    const found = this.find(id);
    if (!found) throw new Error(`no source '${id}' in the local ${this.region} workspace`);
    return found;
  }

  /** The sender of a write key: its source, or why its events are discarded (`revoked`: a revocation applies to it). */
  senderOf(key: string, revoked: boolean): Sender {
    const source = this.sources.find((s) => s.writeKeys.includes(key));
    if (!source)
      return { kind: 'writeKey', discard: this.retiredKeys.has(key) ? 'revoked_write_key' : 'unknown_write_key' };
    if (revoked) return { kind: 'writeKey', discard: 'revoked_write_key' };
    if (!source.enabled) return { kind: 'writeKey', discard: 'source_disabled' };
    return { kind: 'writeKey', index: source.index };
  }

  reset(): void {
    this.sources = initialSources(this.options);
    this.retiredKeys = new Set();
  }
}
