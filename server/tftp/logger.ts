/** Pino's `logger.debug(fields, message)` shape; a pino logger fits as is. */
export type TftpLogFn = (fields: Record<string, unknown>, message: string) => void;
export type TftpLogger = { debug: TftpLogFn; info: TftpLogFn; warn: TftpLogFn };

export const quietLogger: TftpLogger = { debug: () => {}, info: () => {}, warn: () => {} };

/** A logger that cannot throw: logging happens inside socket callbacks, where a throw would reach the runtime. */
export function neverThrowing(log: TftpLogger): TftpLogger {
  const wrap =
    (fn: TftpLogFn): TftpLogFn =>
    (fields, message) => {
      try {
        fn(fields, message);
      } catch {
        // Losing a log line beats losing the process.
      }
    };
  return { debug: wrap(log.debug.bind(log)), info: wrap(log.info.bind(log)), warn: wrap(log.warn.bind(log)) };
}
