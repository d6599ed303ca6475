// Prompts → context rows for a text model: tokenize with the model's tokenizer.json
// (@huggingface/tokenizers, no hand-written tokenizer), truncate or pad to the encoder's length,
// encode once, and keep the last few prompts' rows in a small LRU keyed by model + prompt, so a
// new seed with the same prompt does not re-encode (pipelines.md: "cache the embeddings").

import { Tokenizer } from '@huggingface/tokenizers';
import { BadInputError } from '../core/errors.ts';
import { manifestError } from '../manifest/errors.ts';
import type { PipelineGraphs } from '../backend/text-pipeline.ts';

export interface TokenizedPrompt {
  /** Exactly maxLength ids: the prompt's tokens, then padId (several tokenizers: each one's ids, one after the other). */
  ids: Int32Array;
  /** Tokens the prompt had before truncation (> maxLength when it was cut); several tokenizers: the longest overshoot's. */
  length: number;
  /** Several tokenizers (combineTokenizers): each one's token count before truncation and length. */
  parts?: { length: number; maxLength: number }[];
}

export interface PromptTokenizer {
  readonly maxLength: number;
  tokenize(text: string): TokenizedPrompt;
}

/** Upper bound on a prompt's characters: beyond it a prompt is a mistake, not a description. */
export const MAX_PROMPT_CHARS = 10_000;

/** tokenizer.json (parsed) → a tokenizer that truncates / pads to maxLength with padId. */
export function createPromptTokenizer(json: unknown, maxLength: number, padId: number): PromptTokenizer {
  let tok: Tokenizer;
  try {
    tok = new Tokenizer(json as object, {});
    tok.encode(''); // a malformed model section fails here, at load, not at the first prompt
  } catch (e) {
    throw manifestError('MANIFEST_FIELD_INVALID', `tokenizer.json cannot be read by @huggingface/tokenizers: ${(e as Error).message}`,
      'Write the tokenizer with the Python `tokenizers` library (Tokenizer.save), as tools/export_t2i.py does.', { cause: e });
  }
  return {
    maxLength,
    tokenize(text) {
      checkPrompt(text, 'prompt');
      const all = tok.encode(text, { add_special_tokens: true }).ids;
      const ids = new Int32Array(maxLength).fill(padId);
      ids.set(all.length <= maxLength ? all : truncate(all, tok.encode(text, { add_special_tokens: false }).ids, maxLength));
      return { ids, length: all.length };
    },
  };
}

/**
 * The tokenizers of a pipeline with several text encoders (Flux: CLIP + T5; SD3: CLIP-L, CLIP-G, T5) as one: the ids
 * are every tokenizer's padded ids one after the other (the encoder graphs split them by their lengths), so the prompt
 * LRU's key (model hash + ids) names what every encoder reads. One tokenizer is returned as it is.
 */
export function combineTokenizers(list: readonly PromptTokenizer[]): PromptTokenizer {
  if (list.length === 1) return list[0]!;
  const maxLength = list.reduce((a, t) => a + t.maxLength, 0);
  return {
    maxLength,
    tokenize(text) {
      const each = list.map((t) => t.tokenize(text));
      const ids = new Int32Array(maxLength);
      let at = 0;
      each.forEach((t) => {
        ids.set(t.ids, at);
        at += t.ids.length;
      });
      const parts = each.map((t, k) => ({ length: t.length, maxLength: list[k]!.maxLength }));
      return { ids, length: maxLength + Math.max(0, ...parts.map((q) => q.length - q.maxLength)), parts };
    },
  };
}

/**
 * A prompt cut to maxLength as the `tokenizers` library (and so every diffusers pipeline) cuts it: the words are
 * truncated and the special tokens the tokenizer's template adds stay (CLIP keeps <|startoftext|> … <|endoftext|>, the
 * token it pools at; T5 keeps </s>). `all`: the ids with the special tokens; `words`: without them. A tokenizer that
 * adds none (WordPiece without a template) is cut at maxLength.
 */
function truncate(all: readonly number[], words: readonly number[], maxLength: number): number[] {
  const added = all.length - words.length;
  if (added <= 0 || added >= maxLength) return all.slice(0, maxLength);
  for (let p = 0; p <= added; p++) { // where the words sit between the template's tokens
    let k = 0;
    while (k < words.length && all[p + k] === words[k]) k++;
    if (k === words.length) return [...all.slice(0, p), ...words.slice(0, maxLength - added), ...all.slice(p + words.length)];
  }
  return all.slice(0, maxLength);
}

export function checkPrompt(text: unknown, field: string): asserts text is string {
  if (typeof text !== 'string') throw new BadInputError(`${field} must be a string, got ${typeof text}`, `pass ${field} as text`);
  if (text.length > MAX_PROMPT_CHARS) {
    throw new BadInputError(`${field} has ${text.length} characters (at most ${MAX_PROMPT_CHARS})`, 'shorten the prompt');
  }
}

/** A least-recently-used map of a few entries (Map keeps insertion order: re-insert on use). */
export class LruCache<V> {
  readonly #map = new Map<string, V>();
  constructor(readonly capacity: number) {}
  get(key: string): V | undefined {
    const v = this.#map.get(key);
    if (v !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, v);
    }
    return v;
  }
  set(key: string, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    while (this.#map.size > this.capacity) this.#map.delete(this.#map.keys().next().value!);
  }
  get size(): number {
    return this.#map.size;
  }
}

/** Context rows cached per model hash + prompt text. 8 prompts of the tiny model are ~8 KB. */
export type EmbeddingCache = LruCache<Float32Array>;
export const createEmbeddingCache = (capacity = 8): EmbeddingCache => new LruCache<Float32Array>(capacity);

export interface PromptContext<T> {
  tokenizer: PromptTokenizer;
  graphs: PipelineGraphs<T>;
  modelHash: string;
  cache?: EmbeddingCache;
}

export interface EncodedPrompts {
  rows: Float32Array[];
  /** Prompts that were encoded now (the others came from the cache). */
  encoded: number;
  warnings: string[];
}

/** [prompt, negative] → their context rows, from the cache or the encoder; warns on truncation. */
export async function encodePrompts<T>(ctx: PromptContext<T>, prompts: readonly string[]): Promise<EncodedPrompts> {
  const out: EncodedPrompts = { rows: [], encoded: 0, warnings: [] };
  for (const text of prompts) {
    const t = ctx.tokenizer.tokenize(text);
    const shown = `prompt "${text.slice(0, 40)}${text.length > 40 ? '…' : ''}"`;
    if (!t.parts && t.length > ctx.tokenizer.maxLength) {
      out.warnings.push(`${shown} has ${t.length} tokens; the text encoder reads ${ctx.tokenizer.maxLength}, the rest is ignored`);
    }
    // several tokenizers: one warning per tokenizer that cut the prompt (CLIP's 77 tokens cut long before T5's 512)
    t.parts?.forEach((q, k) => {
      if (q.length > q.maxLength) {
        out.warnings.push(`${shown} has ${q.length} tokens for text encoder ${k + 1} of ${t.parts!.length}; it reads ${q.maxLength}, the rest is ignored there`);
      }
    });
    const key = `${ctx.modelHash}\u0000${Array.from(t.ids).join(',')}`;
    let row = ctx.cache?.get(key);
    if (!row) {
      row = await ctx.graphs.encode(t.ids);
      out.encoded++;
      ctx.cache?.set(key, row);
    }
    out.rows.push(row);
  }
  return out;
}
