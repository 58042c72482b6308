// Value checks shared by the attribute catalog and the API. Each returns the normal form or throws a UserError.
import { UserError } from "./errors.ts";

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$/;

export function objectName(kind: string, name: string): string {
  if (!NAME.test(name)) {
    throw new UserError(
      `invalid ${kind} name '${name}': use letters, digits, '_', '.', '-' (not first), at most 63 characters`,
    );
  }
  return name;
}

export function ipv4(attr: string, value: string): string {
  const parts = value.split(".");
  const ok = parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
  if (!ok) throw new UserError(`${attr}=${value}: not an IPv4 address (expected e.g. 10.0.0.5)`);
  return parts.map(Number).join(".");
}

export function ipv4ToInt(ip: string): number {
  return ip.split(".").reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function mac(attr: string, value: string): string {
  const hex = value.trim().toLowerCase().replace(/[:\-.]/g, "");
  if (!/^[0-9a-f]{12}$/.test(hex)) {
    throw new UserError(`${attr}=${value}: not a MAC address (expected e.g. 52:54:00:12:34:56)`);
  }
  return hex.match(/../g)!.join(":");
}

export function integerIn(attr: string, value: string, min: number, max: number): string {
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new UserError(`${attr}=${value}: expected a whole number from ${min} to ${max}`);
  }
  return String(Number(value));
}

export function oneOf(attr: string, value: string, allowed: readonly string[]): string {
  if (!allowed.includes(value)) throw new UserError(`${attr}=${value}: expected one of ${allowed.join(", ")}`);
  return value;
}
