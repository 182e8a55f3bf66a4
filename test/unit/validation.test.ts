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

  it('speaks of the value itself when the value is what is wrong', () => {
    expect(reject('nope', uuidSchema)).toBe('form must be a UUID');
    expect(reject([1])).toBe('form must be an object, not an array');
  });
});
