// fast-check arbitraries for the calendar properties (zoned time, quiet hours): zones with DST,
// odd offsets and odd shifts, instants clustered around their transitions, times of day,
// quiet-hours windows as stored.
import fc from "fast-check";
import type { QuietHours, QuietWindow } from "./quiet_hours.ts";

export const ZONES = [
  "UTC",
  "Europe/Berlin",
  "America/New_York",
  "Asia/Kolkata",
  "Australia/Lord_Howe", // 30-minute DST shift
  "America/St_Johns", // -03:30 / -02:30
  "Pacific/Chatham", // +12:45 / +13:45
];

// DST transitions of 2026 that the generated instants cluster around.
const TRANSITIONS = [
  "2026-03-08T07:00:00Z", // New York, spring forward
  "2026-11-01T06:00:00Z", // New York, fall back
  "2026-03-29T01:00:00Z", // Berlin, spring forward
  "2026-10-25T01:00:00Z", // Berlin, fall back
  "2026-04-04T15:00:00Z", // Lord Howe, fall back (02:00 → 01:30)
  "2026-10-03T15:30:00Z", // Lord Howe, spring forward (02:00 → 02:30)
  "2026-03-08T05:31:00Z", // St John's, spring forward
  "2026-04-04T14:00:00Z", // Chatham, fall back
].map((t) => Date.parse(t));

export const instants: fc.Arbitrary<Date> = fc.oneof(
  fc.date({
    min: new Date("2025-01-01T00:00:00Z"),
    max: new Date("2027-12-31T00:00:00Z"),
    noInvalidDate: true,
  }),
  fc.tuple(fc.constantFrom(...TRANSITIONS), fc.integer({ min: -36 * 60, max: 36 * 60 }))
    .map(([t, minutes]) => new Date(t + minutes * 60_000)),
);

/** Minutes after midnight, with quarter hours (the usual choice) over-represented. */
export const minutesOfDay: fc.Arbitrary<number> = fc.oneof(
  fc.integer({ min: 0, max: 95 }).map((q) => q * 15),
  fc.integer({ min: 0, max: 1439 }),
);

const hhmm = minutesOfDay.map((m) =>
  `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`
);

export const windows: fc.Arbitrary<QuietWindow[]> = fc.array(
  fc.record(
    {
      start: hhmm,
      end: hhmm,
      days: fc.uniqueArray(fc.integer({ min: 1, max: 7 }), { maxLength: 7 }),
    },
    { requiredKeys: ["start", "end"] },
  ),
  { maxLength: 4 },
);

export const quietHours: fc.Arbitrary<QuietHours> = fc.record({
  timezone: fc.constantFrom(...ZONES),
  windows,
});
