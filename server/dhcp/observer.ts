// The observer runs inside the reply path: whatever it does wrong must not stop the reply.
import type { BootEventKind, DhcpObserver } from "./backend.ts";

export type ObserverErrorHandler = (error: unknown, what: string) => void;

export const NULL_OBSERVER: DhcpObserver = { bootEvent() {}, discovered() {} };

/** `observer` with every call guarded; failures go to `onError`. */
export function guardObserver(observer: DhcpObserver | undefined, onError: ObserverErrorHandler = () => {}): DhcpObserver {
  if (observer === undefined) return NULL_OBSERVER;
  return {
    bootEvent(event) {
      try {
        observer.bootEvent(event);
      } catch (error) {
        onError(error, "bootEvent");
      }
    },
    discovered(machine) {
      try {
        observer.discovered(machine);
      } catch (error) {
        onError(error, "discovered");
      }
    },
  };
}

/** A boot event without the optional fields it does not have. */
export function bootEvent(kind: BootEventKind, mac: string, node: string | undefined, detail: string): Parameters<DhcpObserver["bootEvent"]>[0] {
  return node === undefined ? { mac, kind, detail } : { mac, node, kind, detail };
}
