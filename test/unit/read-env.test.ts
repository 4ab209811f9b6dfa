import * as z from 'zod';
import { describe, expect, it } from 'vitest';
import { readEnv } from '../../functions/core/env.ts';

const Schema = z.object({ TABLE: z.string().min(1), PORT: z.coerce.number().int().min(1) });

describe('readEnv', () => {
  it('names a variable that is missing as not set', () => {
    expect(() => readEnv(Schema, { PORT: '80' })).toThrow('TABLE: required but not set');
  });

  it('names a variable that is set but wrong with what it holds, not as missing', () => {
    let message = '';
    try {
      readEnv(Schema, { TABLE: 't', PORT: 'abc' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/PORT: .*\(got "abc"\)/);
    expect(message).not.toContain('required but not set');
  });

  it('returns the parsed settings', () => {
    expect(readEnv(Schema, { TABLE: 't', PORT: '8080' })).toEqual({ TABLE: 't', PORT: 8080 });
  });
});
