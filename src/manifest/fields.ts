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
  str(key: string): string;
  num(key: string): number;
  int(key: string): number;
  obj(key: string): FieldReader;
  arr(key: string): unknown[];
  optNum(key: string): number | undefined;
  optStr(key: string): string | undefined;
}

export function reader(value: unknown, where: string, path = ''): FieldReader {
  if (!isObject(value)) invalidField(where, path || '(root)', 'an object', value);
  const sub = (key: string): string => (path ? `${path}.${key}` : key);
  const get = (key: string): unknown => {
    if (!(key in value) || value[key] === undefined || value[key] === null) missing(where, sub(key));
    return value[key];
  };
  const num = (key: string): number => {
    const v = get(key);
    if (typeof v !== 'number' || !Number.isFinite(v)) invalidField(where, sub(key), 'a finite number', v);
    return v;
  };
  const str = (key: string): string => {
    const v = get(key);
    if (typeof v !== 'string' || v === '') invalidField(where, sub(key), 'a non-empty string', v);
    return v;
  };
  return {
    path,
    value,
    has: (key) => value[key] !== undefined && value[key] !== null,
    str,
    num,
    int(key) {
      const v = num(key);
      if (!Number.isInteger(v)) invalidField(where, sub(key), 'an integer', v);
      return v;
    },
    obj: (key) => reader(get(key), where, sub(key)),
    arr(key) {
      const v = get(key);
      if (!Array.isArray(v)) invalidField(where, sub(key), 'an array', v);
      return v;
    },
    optNum: (key) => (value[key] === undefined || value[key] === null ? undefined : num(key)),
    optStr: (key) => (value[key] === undefined || value[key] === null ? undefined : str(key)),
  };
}
