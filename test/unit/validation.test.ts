import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseInput, uuidSchema } from '../../src/validation';
import { BadInputError } from '../../src/shared/errors';

describe('parseInput', () => {
  const form = z
    .object({ a: z.string(), b: z.number(), c: z.boolean(), d: z.string(), e: z.string(), f: z.string(), g: z.string() })
    .strict();
  const reject = (value: unknown, schema: z.ZodTypeAny = form) => {
    try {
      parseInput(schema, value, 'form');
    } catch (err) {
      expect(err).toBeInstanceOf(BadInputError);
      return (err as Error).message;
    }
    throw new Error('parsed');
  };

  it('names every wrong field, then counts the rest past five', () => {
    expect(reject({ a: 'x', b: 'two', c: true, d: 'x', e: 'x', f: 'x', g: 'x', h: 1 })).toBe(
      'form: b must be a number, not a string; unknown field "h"',
    );
    expect(reject({})).toBe('form: a is required; b is required; c is required; d is required; e is required; and 2 more');
  });

  it("says a string's length bounds in words, and names fields as the caller names them", () => {
    const sized = z
      .object({ name: z.string().min(1), code: z.string().min(3).max(5), note: z.object({ x: z.string().max(2) }).strict() })
      .strict();
    expect(reject({ name: '', code: 'abcdef', note: { x: 'abc', y: 1 } }, sized)).toBe(
      'form: name must not be empty; code must be at most 5 characters; note.x must be at most 2 characters; unknown field "note.y"',
    );
    expect(reject({ name: 'n', code: 'ab', note: { x: '' } }, sized)).toBe('form: code must be at least 3 characters');
    const flag = (path: ReadonlyArray<string | number>) => `--${path.join('-')}`;
    expect(() => parseInput(sized, { name: '', code: 'abc', note: { x: '', y: 1 } }, 'form', flag)).toThrow(
      'form: --name must not be empty; unknown field "--note-y"',
    );
  });

  it('refuses text PostgreSQL cannot store (a NUL, half a surrogate pair), naming where it is', () => {
    const nested = z.object({ title: z.string(), tags: z.array(z.object({ name: z.string() })) }).strict();
    expect(reject({ title: 'a\u0000b', tags: [] }, nested)).toBe(
      'form: title holds a NUL character or half of a surrogate pair, which PostgreSQL cannot store',
    );
    expect(reject({ title: 'ok 😀', tags: [{ name: 'x' }, { name: 'broken \ud83d' }] }, nested)).toMatch(
      /^form: tags\.1\.name holds a NUL/,
    );
    expect(parseInput(nested, { title: 'ok 😀', tags: [] }, 'form')).toEqual({ title: 'ok 😀', tags: [] });
    expect(() => parseInput(z.record(z.number()), { 'k\u0000': 1 }, 'query', (p) => `--${p.join('-')}`)).toThrow(
      'query: --k\u0000 holds a NUL character or half of a surrogate pair, which PostgreSQL cannot store',
    );
  });

  it('speaks of the value itself when the value is what is wrong', () => {
    expect(reject('nope', uuidSchema)).toBe('form must be a UUID');
    expect(reject([1])).toBe('form must be an object, not an array');
  });
});
