/** A noderange the user wrote cannot be evaluated; the message is shown to the user as is. */
export class NoderangeError extends Error {
  override readonly name = "NoderangeError";
}
