/** An item value of about `bytes` characters (the issue's ~200 B values), different for each n. */
export function itemValue(n: number, bytes: number): string {
  const head = `{"n":${n},"payload":"`;
  return head + 'x'.repeat(Math.max(0, bytes - head.length - 2)) + '"}';
}
