/** An error a person can act on: printed as one message, without a stack, and the command exits 1. */
export class UserError extends Error {
  override name = 'UserError';
}
