/**
 * Builds plain objects from (keys, values) so that they are "fast" objects for V8.
 *
 * An object that receives more than a dozen properties through computed keys (`o[k] = v`) becomes a hash table
 * ("dictionary mode"), slower to fill and to JSON.stringify. Events of one type almost always carry the same fields in
 * the same order, so each distinct key sequence gets, from its second sighting on, a compiled object-literal factory
 * `v => ({"k0": v[0], "k1": v[1], ...})`; literals get V8's fast shapes. The key sequences are kept in a bounded trie;
 * past its bounds (or for a key literals cannot express) objects are built the ordinary way, with the same result.
 */
import type { JsonObject } from './decode';

interface ShapeNode {
  /** The first child's key and node: nearly every lookup hits it, without hashing. */
  firstKey: string | undefined;
  first: ShapeNode | undefined;
  next: Map<string, ShapeNode> | undefined;
  hits: number;
  make: ((values: readonly unknown[]) => JsonObject) | undefined;
}

const newNode = (): ShapeNode => ({ firstKey: undefined, first: undefined, next: undefined, hits: 0, make: undefined });

export class ShapeCache {
  private readonly root = newNode();
  private nodes = 1;
  private compiled = 0;

  constructor(
    private readonly maxNodes = 4096,
    private readonly maxCompiled = 256,
  ) {}

  /** The object {keys[i]: values[i]} for i < n (a later duplicate key overwrites the value, keeping the first position). */
  build(keys: readonly string[], values: readonly unknown[], n: number): JsonObject {
    let node = this.root;
    for (let i = 0; i < n; i++) {
      const key = keys[i]!;
      let next = node.firstKey === key ? node.first : node.next?.get(key);
      if (next === undefined) {
        if (this.nodes >= this.maxNodes) return plainObject(keys, values, n);
        next = newNode();
        if (node.first === undefined) {
          node.firstKey = key;
          node.first = next;
        } else (node.next ??= new Map()).set(key, next);
        this.nodes++;
      }
      node = next;
    }
    if (node.make !== undefined) return node.make(values);
    if (++node.hits >= 2 && this.compiled < this.maxCompiled) {
      const make = compile(keys, n);
      if (make) {
        node.make = make;
        this.compiled++;
        return make(values);
      }
    }
    return plainObject(keys, values, n);
  }
}

function plainObject(keys: readonly string[], values: readonly unknown[], n: number): JsonObject {
  const o: JsonObject = {};
  for (let i = 0; i < n; i++) {
    const k = keys[i]!;
    // An own property named __proto__ (JSON.parse makes one) must not become the prototype.
    if (k === '__proto__')
      Object.defineProperty(o, k, { value: values[i], enumerable: true, writable: true, configurable: true });
    else o[k] = values[i];
  }
  return o;
}

function compile(keys: readonly string[], n: number): ((values: readonly unknown[]) => JsonObject) | undefined {
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    if (keys[i] === '__proto__') return undefined;
    // JSON.stringify gives a valid JavaScript string literal for any key: no key can inject code.
    parts.push(`${JSON.stringify(keys[i])}:v[${i}]`);
  }
  try {
    return new Function('v', `return {${parts.join(',')}};`) as (values: readonly unknown[]) => JsonObject;
  } catch {
    // Code generation disallowed (--disallow-code-generation-from-strings): ordinary objects, same result.
    return undefined;
  }
}
