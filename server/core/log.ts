import pino, { type Logger } from "pino";
import pretty from "pino-pretty";

export type { Logger };

/** JSON logs, or readable ones on a terminal. Secrets are redacted wherever they might appear. */
export function createLogger(level: string, destination: NodeJS.WritableStream = process.stderr): Logger {
  const options = {
    level,
    redact: { paths: ["*.bmcpassword", "*.password", "*.token", "*.authorization", "*.*.authorization"], censor: "[redacted]" },
  };
  const onTerminal = (destination as { isTTY?: boolean }).isTTY === true;
  // pino-pretty as an in-process stream: pino's worker-thread transports do not survive `bun build --compile`.
  return onTerminal ? pino(options, pretty({ destination: 2, sync: true })) : pino(options, destination);
}
