// The one timestamp builds may leave in an image: fixed, so the same packages give the same bytes.
export const SOURCE_DATE_EPOCH = 1704067200;
