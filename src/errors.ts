/**
 * The base of every error a user can fix (a bad setting, a missing model, a busy port): its message
 * says what is wrong and what to do, so the CLI prints it without a stack trace. Anything else that
 * escapes is a bug, printed with its stack.
 */
export class UserFacingError extends Error {
  override readonly name: string = "UserFacingError";
}
