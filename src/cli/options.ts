import { InvalidArgumentError } from 'commander';
import { ArmorerError } from '../core/errors.js';
import { parseSize } from '../core/units.js';

/** Commander parsers that turn bad flag values into coded errors, not stack traces. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function sizeFlag(what: string) {
  return (value: string): number => {
    try {
      return parseSize(value, what);
    } catch (e) {
      throw new InvalidArgumentError((e as ArmorerError).message + ` (${(e as ArmorerError).fix})`);
    }
  };
}

export function intFlag(what: string, min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min) {
      throw new InvalidArgumentError(`${what} must be a whole number >= ${min}, not "${value}"`);
    }
    return n;
  };
}

export function positiveNumberFlag(what: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+(\.\d+)?$/.test(value) || !(n > 0)) throw new InvalidArgumentError(`${what} must be a number > 0, not "${value}"`);
    return n;
  };
}
