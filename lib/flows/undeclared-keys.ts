// Keys a flow's parameters hold that its schema does not declare. zod's z.object() drops unknown
// keys without a word, so a typo (`modle`) would run the batch on the default; walking the schema
// beside the value finds them. Objects that accept any key say so (z.looseObject, z.record).
import type { z } from "zod";

export interface UndeclaredKey {
  /** dotted path of the key, e.g. "modle" or "prices.input_per_1M" */
  path: string;
  /** the keys declared where it stands */
  declared: string[];
}

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  catchall?: z.ZodType;
  innerType?: z.ZodType;
  in?: z.ZodType;
  element?: z.ZodType;
  valueType?: z.ZodType;
  options?: z.ZodType[];
  discriminator?: string;
  left?: z.ZodType;
  right?: z.ZodType;
  getter?: () => z.ZodType;
}

const defOf = (schema: z.ZodType) => (schema as unknown as { _zod: { def: Def } })._zod.def;
const isPlainObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

// wrappers whose inner schema sees the same value
const WRAPPERS = new Set(["optional", "nullable", "default", "prefault", "nonoptional", "readonly", "catch", "success"]);

/** The undeclared keys of `value` under `schema`, outermost first. */
export function undeclaredKeys(schema: z.ZodType, value: unknown, path: string[] = []): UndeclaredKey[] {
  const def = defOf(schema);
  if (WRAPPERS.has(def.type) && def.innerType) return undeclaredKeys(def.innerType, value, path);
  if (def.type === "pipe" && def.in) return undeclaredKeys(def.in, value, path);
  if (def.type === "lazy" && def.getter) return undeclaredKeys(def.getter(), value, path);
  if (def.type === "intersection" && def.left && def.right) {
    // a key either side declares is declared
    const left = undeclaredKeys(def.left, value, path);
    const right = new Set(undeclaredKeys(def.right, value, path).map((k) => k.path));
    return left.filter((k) => right.has(k.path));
  }
  if (def.type === "array" && def.element && Array.isArray(value)) {
    return value.flatMap((item, i) => undeclaredKeys(def.element!, item, [...path, String(i)]));
  }
  if (def.type === "record" && def.valueType && isPlainObject(value)) {
    return Object.entries(value).flatMap(([k, v]) => undeclaredKeys(def.valueType!, v, [...path, k]));
  }
  if (def.type === "union" && def.discriminator && def.options && isPlainObject(value)) {
    // the option the discriminator picks; other unions cannot say which option a value meant
    const tag = value[def.discriminator];
    const option = def.options.find((o) => {
      const field = defOf(o).shape?.[def.discriminator!];
      return field && (field as z.ZodType).safeParse(tag).success;
    });
    return option ? undeclaredKeys(option, value, path) : [];
  }
  if (def.type === "object" && def.shape && isPlainObject(value)) {
    const shape = def.shape;
    const declared = Object.keys(shape);
    // a catchall (z.looseObject, z.strictObject, .catchall()) decides unknown keys itself
    const own = def.catchall ? [] : Object.keys(value).filter((k) => !Object.hasOwn(shape, k)).map((k) => ({ path: [...path, k].join("."), declared }));
    const nested = declared.filter((k) => Object.hasOwn(value, k)).flatMap((k) => undeclaredKeys(shape[k]!, value[k], [...path, k]));
    return [...own, ...nested];
  }
  return [];
}
