const counts = new Intl.NumberFormat('en');

export function count(n) {
  return counts.format(Number(n ?? 0));
}

export function plural(n, one, many) {
  return `${count(n)} ${Number(n) === 1 ? one : many}`;
}

const units = ['bytes', 'kB', 'MB', 'GB', 'TB'];
/** Decimal units, as disks and most people count them; the exact figure goes in a title. */
export function bytes(n) {
  let value = Number(n ?? 0);
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  if (unit === 0) return `${count(value)} ${value === 1 ? 'byte' : 'bytes'}`;
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

const dates = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'medium' });
export function dateTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : dates.format(d);
}

/** An item value is an opaque string; show it pretty-printed when it is a JSON object or array. */
export function prettyValue(value) {
  if (typeof value !== 'string') return JSON.stringify(value, null, 2);
  const trimmed = value.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return JSON.stringify(JSON.parse(value), null, 2);
    } catch {
      // Not JSON after all: show it as it is.
    }
  }
  return value;
}
