/**
 * Parsers for numeric command-line flags: each rejects a bad value with a message commander prints
 * as "option '--steps <n>' argument 'abc' is invalid. must be a whole number between 1 and 1000".
 */
import { InvalidArgumentError } from "commander";

export function wholeNumber(min: number, max: number) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
      throw new InvalidArgumentError(`must be a whole number between ${min} and ${max}`);
    }
    return parsed;
  };
}

export function decimalNumber(min: number, max: number) {
  return (value: string): number => {
    const parsed = Number(value);
    if (value.trim() === "" || !Number.isFinite(parsed) || parsed < min || parsed > max) {
      throw new InvalidArgumentError(`must be a number between ${min} and ${max}`);
    }
    return parsed;
  };
}
