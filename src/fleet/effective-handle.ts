/**
 * The handle a release is addressed by, computed the way the database does
 * (`app.effective_handle` in migrations/committed/000001-initial-schema.sql) so clients and
 * the CLI can preview it: the name when not empty, else the basename of the
 * release command with trailing slashes stripped first; null — never "" — when
 * that is empty (a logs-only release has no handle).
 *
 * Plain string operations rather than JS regexes on purpose: PostgreSQL's
 * `'^.*\/'` lets `.` match newlines and `'/+$'` anchors only at the very end,
 * which is exactly "everything up to the last slash" and "the trailing run of
 * slashes". test/sql/fleet-effective-handle.test.ts checks agreement with
 * the SQL function on thousands of generated inputs.
 */
export function effectiveHandle(name: string | null | undefined, releaseCommand: string | null | undefined): string | null {
  if (name) return name;
  if (releaseCommand == null) return null;
  let end = releaseCommand.length;
  while (end > 0 && releaseCommand[end - 1] === '/') end -= 1;
  const trimmed = releaseCommand.slice(0, end);
  const basename = trimmed.slice(trimmed.lastIndexOf('/') + 1);
  return basename === '' ? null : basename;
}
