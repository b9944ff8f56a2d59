/**
 * The envelope scan in WebAssembly (runtime/receiver/assembly/envelope-scan.ts, compiled by `npm run build:wasm` into
 * envelope-scan-binary.ts): the JavaScript scan's walk with each string's bytes skipped sixteen at a time, about twice
 * as fast on Braze's requests (`npm run bench -- route`). It answers only where the JavaScript scan
 * (envelope-scan.ts) gives the same answer, and answers undefined everywhere else: not a valid envelope, or one of the
 * rare shapes it leaves to the JavaScript scan (more than 16,384 events, containers nested deeper than 4,096).
 * `scanEnvelope` here asks it first and the JavaScript scan after, so the door's answer never depends on which one ran.
 * Where WebAssembly cannot be had (no SIMD, no memory to grow), every body goes to the JavaScript scan.
 *
 * One instance per process, used synchronously: the body is copied into its memory, scanned, and the events read back
 * before any other request can run. Its memory grows to the largest body seen (at most the door's limit) and stays.
 */
import { ENVELOPE_SCAN_WASM } from './envelope-scan-binary';
import { type EnvelopeElement, scanEnvelope as scanInJavaScript, text } from './envelope-scan';

/** The parts of the WebAssembly API used here (its types are in the DOM library, which the project does not load). */
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: unknown };
}
const webAssembly = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly;

interface Scanner {
  readonly memory: { readonly buffer: ArrayBuffer };
  input(length: number): number;
  output(): number;
  scan(length: number): number;
}

let scanner: Scanner | null | undefined; // null: WebAssembly could not be had here (`unavailable` says why)
let unavailable: string | undefined;

function instance(): Scanner | null {
  if (scanner === undefined) {
    try {
      if (!webAssembly) throw new Error('this Node.js has no WebAssembly');
      const module = new webAssembly.Module(Buffer.from(ENVELOPE_SCAN_WASM, 'base64'));
      scanner = new webAssembly.Instance(module, {}).exports as Scanner;
    } catch (err) {
      scanner = null;
      unavailable = err instanceof Error ? err.message : String(err);
    }
  }
  return scanner;
}

/** Why the WebAssembly scan cannot be had here (every body then goes to the JavaScript scan); undefined when it can. */
export function webAssemblyScanUnavailable(): string | undefined {
  instance();
  return unavailable;
}

/** The events of `body` as the WebAssembly scan reads them, or undefined where it leaves the answer to JavaScript. */
export function scanEnvelopeWasm(body: Buffer): EnvelopeElement[] | undefined {
  const wasm = instance();
  if (!wasm) return undefined;
  const at = wasm.input(body.length);
  if (at === 0) return undefined;
  body.copy(new Uint8Array(wasm.memory.buffer, at, body.length));
  let count: number;
  try {
    count = wasm.scan(body.length);
  } catch {
    return undefined; // a trap is this scan's own fault: the JavaScript scan reads the body (never a 503 forever)
  }
  if (count < 0) return undefined;
  const found = new Int32Array(wasm.memory.buffer, wasm.output(), count * 4);
  const events = new Array<EnvelopeElement>(count);
  for (let k = 0, o = 0; k < count; k++, o += 4) {
    const open = found[o + 2]!;
    events[k] =
      open < 0
        ? { start: found[o]!, end: found[o + 1]! }
        : { start: found[o]!, end: found[o + 1]!, type: text(body, open, found[o + 3]!) };
  }
  return events;
}

/** The events of `body` when it is valid JSON and Braze's envelope, else undefined (envelope-scan.ts's contract). */
export function scanEnvelope(body: Buffer): EnvelopeElement[] | undefined {
  return scanEnvelopeWasm(body) ?? scanInJavaScript(body);
}
