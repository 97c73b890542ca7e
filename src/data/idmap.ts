/**
 * External token ↔ internal id maps (docs/numeric-contract.md §1): ids 1..N in order of first appearance,
 * id 0 is the padding token '[PAD]'.
 */
import type { IdMap } from './types.js';

/** Token of internal id 0, the padding user or item that is never recommended, trained on or evaluated. */
export const PAD_TOKEN = '[PAD]';

/** Grows an id map while a file is read. */
export class IdMapBuilder {
  private readonly tokens: string[] = [PAD_TOKEN];
  private readonly index = new Map<string, number>();

  constructor(readonly field: string) {}

  /** The id of `token`, assigning the next id on first sight. */
  idOf(token: string): number {
    let id = this.index.get(token);
    if (id === undefined) {
      id = this.tokens.length;
      this.tokens.push(token);
      this.index.set(token, id);
    }
    return id;
  }

  /** The id of `token` or undefined; never assigns. */
  peek(token: string): number | undefined {
    return this.index.get(token);
  }

  /** Number of ids including padding. */
  get size(): number {
    return this.tokens.length;
  }

  build(): IdMap {
    return { field: this.field, tokens: this.tokens.slice(), index: new Map(this.index) };
  }
}

/**
 * An id map from real tokens in id order (tokens[0] gets id 1). Throws RangeError on a
 * duplicate token or on '[PAD]' used as a real token.
 */
export function idMapFromTokens(field: string, realTokens: readonly string[]): IdMap {
  const b = new IdMapBuilder(field);
  for (const t of realTokens) {
    if (t === PAD_TOKEN) throw new RangeError(`idMapFromTokens: '${PAD_TOKEN}' is reserved for id 0`);
    if (b.peek(t) !== undefined) throw new RangeError(`idMapFromTokens: duplicate token '${t}'`);
    b.idOf(t);
  }
  return b.build();
}

/** Internal id of a token, or undefined when unknown (padding is never returned). */
export function idOf(map: IdMap, token: string): number | undefined {
  return map.index.get(token);
}

/** Token of an internal id; throws RangeError when out of range. */
export function tokenOf(map: IdMap, id: number): string {
  const t = map.tokens[id];
  if (t === undefined || !Number.isInteger(id))
    throw new RangeError(`${map.field}: no id ${id} (ids 0..${map.tokens.length - 1})`);
  return t;
}

/** Number of real ids (without padding). */
export function idMapRealSize(map: IdMap): number {
  return map.tokens.length - 1;
}

/** True when both maps hold the same tokens in the same order (field names are not compared). */
export function idMapsEqual(a: IdMap, b: IdMap): boolean {
  if (a.tokens.length !== b.tokens.length) return false;
  for (let i = 0; i < a.tokens.length; i++) if (a.tokens[i] !== b.tokens[i]) return false;
  return true;
}
