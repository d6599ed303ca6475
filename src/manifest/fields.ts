// Small typed readers for untrusted JSON. Each failure names the dotted path of the field so the
// user can find it in manifest.json; `where` says which file is being read.

import { manifestError } from './errors.ts';

export type JsonObject = Record<string, unknown>;

const EXPORT_HINT =
  'Re-export the model with tools/export.py (it writes a complete manifest.json), or fix the field by hand.';

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function missing(where: string, path: string): never {
  throw manifestError('MANIFEST_FIELD_MISSING', `${where}: missing field "${path}"`, EXPORT_HINT);
}

export function invalidField(where: string, path: string, expected: string, got: unknown): never {
  const shown = JSON.stringify(got)?.slice(0, 60) ?? String(got);
  throw manifestError(
    'MANIFEST_FIELD_INVALID',
    `${where}: field "${path}" must be ${expected}, got ${shown}`,
    EXPORT_HINT,
  );
}

/** A reader bound to one object and its path, e.g. reader(json, 'manifest.json').obj('graphs'). */
export interface FieldReader {
  readonly path: string;
  readonly value: JsonObject;
  has(key: string): boolean;
  /** A non-empty string of at most `maxLength` characters (default 10 000). */
  str(key: string, maxLength?: number): string;
  /** A finite number, in [min, max] when given. */
  num(key: string, min?: number, max?: number): number;
  /** An integer, in [min, max] when given. */
  int(key: string, min?: number, max?: number): number;
  obj(key: string): FieldReader;
  arr(key: string): unknown[];
  optNum(key: string, min?: number, max?: number): number | undefined;
  optStr(key: string): string | undefined;
}

export function reader(value: unknown, where: string, path = ''): FieldReader {
  if (!isObject(value)) invalidField(where, path || '(root)', 'an object', value);
  const sub = (key: string): string => (path ? `${path}.${key}` : key);
  const get = (key: string): unknown => {
    if (!(key in value) || value[key] === undefined || value[key] === null) missing(where, sub(key));
    return value[key];
  };
  const inRange = (key: string, v: number, what: string, min?: number, max?: number): number => {
    if ((min !== undefined && v < min) || (max !== undefined && v > max)) {
      invalidField(where, sub(key), `${what} in [${min ?? '-∞'}, ${max ?? '∞'}]`, v);
    }
    return v;
  };
  const num = (key: string, min?: number, max?: number): number => {
    const v = get(key);
    if (typeof v !== 'number' || !Number.isFinite(v)) invalidField(where, sub(key), 'a finite number', v);
    return inRange(key, v, 'a number', min, max);
  };
  const str = (key: string, maxLength = 10_000): string => {
    const v = get(key);
    if (typeof v !== 'string' || v === '') invalidField(where, sub(key), 'a non-empty string', v);
    if (v.length > maxLength) invalidField(where, sub(key), `at most ${maxLength} characters`, `${v.slice(0, 20)}…`);
    return v;
  };
  return {
    path,
    value,
    has: (key) => value[key] !== undefined && value[key] !== null,
    str,
    num,
    int(key, min, max) {
      const v = num(key);
      if (!Number.isInteger(v)) invalidField(where, sub(key), 'an integer', v);
      return inRange(key, v, 'an integer', min, max);
    },
    obj: (key) => reader(get(key), where, sub(key)),
    arr(key) {
      const v = get(key);
      if (!Array.isArray(v)) invalidField(where, sub(key), 'an array', v);
      return v;
    },
    optNum: (key, min, max) => (value[key] === undefined || value[key] === null ? undefined : num(key, min, max)),
    optStr: (key) => (value[key] === undefined || value[key] === null ? undefined : str(key)),
  };
}
