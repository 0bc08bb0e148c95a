/**
 * Expected errors: bad input from the user or the environment. They carry the
 * exit status (2: usage or setup) and a message that says what to do; the CLI
 * prints them without a stack. Anything else is an internal error.
 */
export class UsageError extends Error {
  readonly exitCode = 2;
}
