/**
 * Cursor pagination: queries fetch `limit + 1` rows ordered by a unique key; the extra row only
 * says whether another page follows, and the cursor is the key of the page's last row.
 */
export function cursorPage<Row, View = Row>(
  rows: Row[],
  limit: number,
  keyOf: (row: Row) => string,
  view: (row: Row) => View = (r) => r as unknown as View,
) {
  const page = rows.slice(0, limit);
  return { data: page.map(view), nextCursor: rows.length > limit ? keyOf(page[page.length - 1]) : null };
}
