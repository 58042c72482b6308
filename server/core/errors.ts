/** An error caused by what the user asked for; its message is shown as is. `status` is the HTTP status to answer with. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 422 = 400,
  ) {
    super(message);
    this.name = "UserError";
  }
}
