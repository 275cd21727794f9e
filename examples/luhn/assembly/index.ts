// luhn_check(s text) RETURNS boolean: whether s passes the Luhn checksum (credit card numbers,
// IMEIs). Spaces and dashes are ignored; any other non-digit, or no digit at all, is false.

// @ts-ignore: decorator
@wasql("IMMUTABLE PARALLEL SAFE")
export function luhn_check(s: string): bool {
  let sum = 0;
  let digits = 0;
  for (let i = s.length - 1; i >= 0; i--) {
    const c = s.charCodeAt(i);
    if (c == 0x20 || c == 0x2d) continue; // ' ', '-'
    if (c < 0x30 || c > 0x39) return false;
    let d = c - 0x30;
    if (digits & 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    digits++;
  }
  return digits > 0 && sum % 10 == 0;
}
