import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type QuietHours,
  quietHoursEnd,
  quietHoursSchema,
  quietPeriodEnd,
  type QuietSchedule,
  type QuietWindow,
} from "./quiet_hours.ts";
import { instants, quietHours as quietHoursValues } from "./calendar_arbitraries.ts";

const quiet = (timezone: string, windows: QuietWindow[]): QuietHours => ({ timezone, windows });
const schedule = (q: QuietHours): QuietSchedule => quietHoursSchema.parse(q);

// ---------------------------------------------------------------------------------------
// Parsing: once, into what the calendar uses

Deno.test("quietHoursSchema turns windows into minute offsets and weekday sets", () => {
  const parsed = schedule(quiet("Europe/Berlin", [
    { start: "22:00", end: "06:30" },
    { start: "00:00", end: "23:59", days: [6, 7, 6] },
    { start: "12:00", end: "13:00", days: [] },
  ]));
  assert.deepEqual(parsed, {
    timezone: "Europe/Berlin",
    windows: [
      { startMinute: 22 * 60, endMinute: 6 * 60 + 30, days: null },
      { startMinute: 0, endMinute: 23 * 60 + 59, days: new Set([6, 7]) },
      { startMinute: 12 * 60, endMinute: 13 * 60, days: new Set() },
    ],
  });
});

Deno.test('quietHoursEnd works on a schedule built without any "HH:MM" text', () => {
  // What the calendar reads is the parsed form only: nothing is parsed or checked again.
  const built: QuietSchedule = {
    timezone: "UTC",
    windows: [{ startMinute: 22 * 60, endMinute: 6 * 60, days: new Set([3]) }],
  };
  assert.equal(
    quietHoursEnd(built, new Date("2026-06-10T23:00:00Z"))?.toISOString(), // a Wednesday
    "2026-06-11T06:00:00.000Z",
  );
  assert.equal(quietHoursEnd(built, new Date("2026-06-11T23:00:00Z")), null);
});

// ---------------------------------------------------------------------------------------
// The calendar

// 2026-06-01 is a Monday; 2026-06-05 a Friday.
const quietTable: {
  name: string;
  quietHours: QuietHours;
  now: string;
  until: string | null; // null: not quiet
}[] = [
  // UTC
  {
    name: "UTC, crossing midnight",
    quietHours: quiet("UTC", [{ start: "22:00", end: "06:00" }]),
    now: "2026-06-10T23:00:00Z",
    until: "2026-06-11T06:00:00Z",
  },
  {
    name: "UTC, crossing midnight, after midnight",
    quietHours: quiet("UTC", [{ start: "22:00", end: "06:00" }]),
    now: "2026-06-11T05:59:59Z",
    until: "2026-06-11T06:00:00Z",
  },
  {
    name: "UTC, same day",
    quietHours: quiet("UTC", [{ start: "12:00", end: "13:00" }]),
    now: "2026-06-10T12:30:00Z",
    until: "2026-06-10T13:00:00Z",
  },
  {
    name: "UTC, start is inside",
    quietHours: quiet("UTC", [{ start: "12:00", end: "13:00" }]),
    now: "2026-06-10T12:00:00Z",
    until: "2026-06-10T13:00:00Z",
  },
  {
    name: "UTC, end is outside",
    quietHours: quiet("UTC", [{ start: "12:00", end: "13:00" }]),
    now: "2026-06-10T13:00:00Z",
    until: null,
  },
  {
    name: "UTC, just before start",
    quietHours: quiet("UTC", [{ start: "12:00", end: "13:00" }]),
    now: "2026-06-10T11:59:59.999Z",
    until: null,
  },
  { name: "no windows", quietHours: quiet("UTC", []), now: "2026-06-10T03:00:00Z", until: null },
  // days filter (the start date's ISO weekday)
  {
    name: "days: Friday night window on Saturday morning",
    quietHours: quiet("UTC", [{ start: "22:00", end: "06:00", days: [5] }]),
    now: "2026-06-06T03:00:00Z",
    until: "2026-06-06T06:00:00Z",
  },
  {
    name: "days: Friday morning belongs to Thursday's window",
    quietHours: quiet("UTC", [{ start: "22:00", end: "06:00", days: [5] }]),
    now: "2026-06-05T03:00:00Z",
    until: null,
  },
  {
    name: "days: Friday night",
    quietHours: quiet("UTC", [{ start: "22:00", end: "06:00", days: [5] }]),
    now: "2026-06-05T23:00:00Z",
    until: "2026-06-06T06:00:00Z",
  },
  {
    name: "days: Saturday night not listed",
    quietHours: quiet("UTC", [{ start: "22:00", end: "06:00", days: [5] }]),
    now: "2026-06-06T23:00:00Z",
    until: null,
  },
  {
    name: "days: empty list matches no day",
    quietHours: quiet("UTC", [{ start: "00:00", end: "00:00", days: [] }]),
    now: "2026-06-06T12:00:00Z",
    until: null,
  },
  {
    name: "days: Sunday is 7",
    quietHours: quiet("UTC", [{ start: "10:00", end: "11:00", days: [7] }]),
    now: "2026-06-07T10:30:00Z",
    until: "2026-06-07T11:00:00Z",
  },
  // end == start: a whole day
  {
    name: "24 h window, next morning",
    quietHours: quiet("UTC", [{ start: "09:00", end: "09:00", days: [6] }]),
    now: "2026-06-07T08:00:00Z",
    until: "2026-06-07T09:00:00Z",
  },
  {
    name: "24 h window, from its start",
    quietHours: quiet("UTC", [{ start: "09:00", end: "09:00", days: [6] }]),
    now: "2026-06-06T09:00:00Z",
    until: "2026-06-07T09:00:00Z",
  },
  {
    name: "24 h window, before its start",
    quietHours: quiet("UTC", [{ start: "09:00", end: "09:00", days: [6] }]),
    now: "2026-06-06T08:59:00Z",
    until: null,
  },
  // merged periods
  {
    name: "touching windows chain",
    quietHours: quiet("UTC", [{ start: "00:00", end: "06:00" }, { start: "22:00", end: "00:00" }]),
    now: "2026-06-10T23:00:00Z",
    until: "2026-06-11T06:00:00Z",
  },
  {
    name: "overlapping windows merge",
    quietHours: quiet("UTC", [{ start: "20:00", end: "23:00" }, { start: "22:00", end: "01:00" }]),
    now: "2026-06-10T21:00:00Z",
    until: "2026-06-11T01:00:00Z",
  },
  {
    name: "a one-minute gap does not chain",
    quietHours: quiet("UTC", [{ start: "22:00", end: "23:00" }, { start: "23:01", end: "23:30" }]),
    now: "2026-06-10T22:30:00Z",
    until: "2026-06-10T23:00:00Z",
  },
  {
    name: "a weekend built from three windows",
    quietHours: quiet("UTC", [
      { start: "18:00", end: "00:00", days: [5] },
      { start: "00:00", end: "00:00", days: [6] },
      { start: "00:00", end: "08:00", days: [7] },
    ]),
    now: "2026-06-05T19:00:00Z",
    until: "2026-06-07T08:00:00Z",
  },
  {
    name: "quiet all week",
    quietHours: quiet("UTC", [{ start: "00:00", end: "00:00" }]),
    now: "2026-06-10T12:00:00Z",
    until: "2026-06-18T00:00:00Z",
  },
  // Europe/Berlin: CET (+1) → CEST (+2) on 2026-03-29 at 01:00Z (02:00 → 03:00 local)
  {
    name: "Berlin, night across spring forward is 8 h",
    quietHours: quiet("Europe/Berlin", [{ start: "22:00", end: "07:00" }]),
    now: "2026-03-28T23:00:00Z",
    until: "2026-03-29T05:00:00Z",
  },
  {
    name: "Berlin, end 02:30 does not exist: the jump to 03:00",
    quietHours: quiet("Europe/Berlin", [{ start: "23:00", end: "02:30" }]),
    now: "2026-03-29T00:30:00Z",
    until: "2026-03-29T01:00:00Z",
  },
  {
    name: "Berlin, start 02:30 does not exist: starts at the jump",
    quietHours: quiet("Europe/Berlin", [{ start: "02:30", end: "04:00" }]),
    now: "2026-03-29T01:00:00Z",
    until: "2026-03-29T02:00:00Z",
  },
  {
    name: "Berlin, just before the jump",
    quietHours: quiet("Europe/Berlin", [{ start: "02:30", end: "04:00" }]),
    now: "2026-03-29T00:59:59Z",
    until: null,
  },
  {
    name: "Berlin, window inside the gap never happens",
    quietHours: quiet("Europe/Berlin", [{ start: "02:10", end: "02:50" }]),
    now: "2026-03-29T01:00:00Z",
    until: null,
  },
  {
    name: "Berlin, 24 h window across spring forward is 23 h",
    quietHours: quiet("Europe/Berlin", [{ start: "12:00", end: "12:00", days: [6] }]),
    now: "2026-03-29T09:30:00Z",
    until: "2026-03-29T10:00:00Z",
  },
  // Europe/Berlin: CEST (+2) → CET (+1) on 2026-10-25 at 01:00Z (03:00 → 02:00 local)
  {
    name: "Berlin, ambiguous end: the earlier 02:30 (CEST)",
    quietHours: quiet("Europe/Berlin", [{ start: "22:00", end: "02:30" }]),
    now: "2026-10-25T00:15:00Z",
    until: "2026-10-25T00:30:00Z",
  },
  {
    name: "Berlin, the repeated 02:15 CET is after that end",
    quietHours: quiet("Europe/Berlin", [{ start: "22:00", end: "02:30" }]),
    now: "2026-10-25T01:15:00Z",
    until: null,
  },
  {
    name: "Berlin, ambiguous start: from the earlier 02:30",
    quietHours: quiet("Europe/Berlin", [{ start: "02:30", end: "05:00" }]),
    now: "2026-10-25T01:10:00Z",
    until: "2026-10-25T04:00:00Z",
  },
  {
    name: "Berlin, night across fall back is 7 h",
    quietHours: quiet("Europe/Berlin", [{ start: "01:00", end: "07:00" }]),
    now: "2026-10-25T03:00:00Z",
    until: "2026-10-25T06:00:00Z",
  },
  {
    name: "Berlin, 24 h window across fall back is 25 h",
    quietHours: quiet("Europe/Berlin", [{ start: "12:00", end: "12:00", days: [6] }]),
    now: "2026-10-25T10:30:00Z",
    until: "2026-10-25T11:00:00Z",
  },
  // America/New_York: EST (-5) → EDT (-4) on 2026-03-08 at 07:00Z (02:00 → 03:00 local)
  {
    name: "New York, end 02:30 does not exist: 03:00 EDT",
    quietHours: quiet("America/New_York", [{ start: "21:00", end: "02:30" }]),
    now: "2026-03-08T06:30:00Z",
    until: "2026-03-08T07:00:00Z",
  },
  {
    name: "New York, night across spring forward",
    quietHours: quiet("America/New_York", [{ start: "22:00", end: "06:00" }]),
    now: "2026-03-08T05:00:00Z",
    until: "2026-03-08T10:00:00Z",
  },
  // America/New_York: EDT (-4) → EST (-5) on 2026-11-01 at 06:00Z (02:00 → 01:00 local)
  {
    name: "New York, ambiguous end: the earlier 01:30 (EDT)",
    quietHours: quiet("America/New_York", [{ start: "00:00", end: "01:30" }]),
    now: "2026-11-01T05:15:00Z",
    until: "2026-11-01T05:30:00Z",
  },
  {
    name: "New York, the repeated 01:15 EST is after that end",
    quietHours: quiet("America/New_York", [{ start: "00:00", end: "01:30" }]),
    now: "2026-11-01T06:15:00Z",
    until: null,
  },
  {
    name: "New York, night across fall back",
    quietHours: quiet("America/New_York", [{ start: "22:00", end: "06:00" }]),
    now: "2026-11-01T04:00:00Z",
    until: "2026-11-01T11:00:00Z",
  },
  // Asia/Kolkata: +05:30, no DST
  {
    name: "Kolkata, half-hour offset",
    quietHours: quiet("Asia/Kolkata", [{ start: "21:00", end: "07:30" }]),
    now: "2026-01-15T16:00:00Z",
    until: "2026-01-16T02:00:00Z",
  },
  {
    name: "Kolkata, a minute before",
    quietHours: quiet("Asia/Kolkata", [{ start: "21:00", end: "07:30" }]),
    now: "2026-01-15T15:29:00Z",
    until: null,
  },
  {
    name: "Kolkata, weekday taken locally (Saturday 01:00 IST is Friday in UTC)",
    quietHours: quiet("Asia/Kolkata", [{ start: "00:00", end: "06:00", days: [6] }]),
    now: "2026-06-05T19:30:00Z",
    until: "2026-06-06T00:30:00Z",
  },
];

for (const { name, quietHours, now, until } of quietTable) {
  Deno.test(`quiet hours: ${name}`, () => {
    const end = quietHoursEnd(schedule(quietHours), new Date(now));
    assert.equal(end?.toISOString() ?? null, until === null ? null : new Date(until).toISOString());
  });
}

Deno.test("quietHoursEnd rejects an invalid now", () => {
  assert.throws(
    () => quietHoursEnd(schedule(quiet("UTC", [])), new Date(NaN)),
    (e) => e instanceof RangeError && /now must be a valid Date/.test(e.message),
  );
});

// ---------------------------------------------------------------------------------------
// Properties

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

// Independent oracle: is the wall-clock reading at `ms` inside a window, by the plain rule
// "start ≤ t < end on a listed start date"? Only meaningful where the reading is unambiguous.
function wallReading(ms: number, tz: string): { day: number; minute: number } {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-GB", {
      timeZone: tz,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
    }).formatToParts(ms).map((p) => [p.type, Number(p.value)]),
  );
  return {
    day: Date.UTC(parts.year, parts.month - 1, parts.day) / DAY,
    minute: parts.hour * 60 + parts.minute,
  };
}
const isoWeekday = (day: number) => ((day + 3) % 7 + 7) % 7 + 1;
const minutesOf = (t: string) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3));

function insideByWallClock(ws: QuietWindow[], tz: string, ms: number): boolean {
  const { day, minute } = wallReading(ms, tz);
  return ws.some((w) => {
    const s = minutesOf(w.start);
    const e = minutesOf(w.end);
    const on = (d: number) => w.days === undefined || w.days.includes(isoWeekday(d));
    if (e > s) return on(day) && s <= minute && minute < e;
    return (on(day) && minute >= s) || (on(day - 1) && minute < e);
  });
}

// The clock runs backwards (fall back) within 3 hours of `ms`: wall readings repeat there.
function nearFallBack(ms: number, tz: string): boolean {
  const offset = (t: number) => {
    const { day, minute } = wallReading(t, tz);
    return day * DAY + minute * 60_000 - Math.floor(t / 60_000) * 60_000;
  };
  return offset(ms - 3 * HOUR) > offset(ms + 3 * HOUR);
}

Deno.test("property: a quiet period ends after now, at the end of quiet", () => {
  fc.assert(
    fc.property(quietHoursValues, instants, (raw, now) => {
      const s = schedule(raw);
      const quiet = quietPeriodEnd(s, now.getTime());
      if (quiet === null) return;
      assert.ok(quiet.end > now.getTime(), "the end is after now");
      // Still quiet the instant before: the end is the end of the quiet period, not later.
      const before = quietPeriodEnd(s, quiet.end - 1);
      assert.notEqual(before, null);
      const after = quietPeriodEnd(s, quiet.end);
      if (quiet.capped) {
        assert.ok(quiet.end - now.getTime() >= 7 * DAY);
        assert.notEqual(after, null);
      } else {
        assert.equal(after, null, `not quiet at ${new Date(quiet.end).toISOString()}`);
        assert.equal(before!.end, quiet.end);
      }
    }),
    { numRuns: 400 },
  );
});

Deno.test("property: quiet exactly inside a window", () => {
  fc.assert(
    fc.property(quietHoursValues, instants, ({ timezone, windows }, now) => {
      if (nearFallBack(now.getTime(), timezone)) return; // wall readings repeat: no plain rule
      const inside = insideByWallClock(windows, timezone, now.getTime());
      const end = quietHoursEnd(schedule({ timezone, windows }), now);
      assert.equal(end !== null, inside);
    }),
    { numRuns: 1_000 },
  );
});
