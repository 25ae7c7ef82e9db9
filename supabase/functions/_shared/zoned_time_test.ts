import assert from "node:assert/strict";
import fc from "fast-check";
import {
  formatLocal,
  instantOf,
  isoWeekday,
  isValidTimeZone,
  localDay,
  offsetAt,
  wallClock,
} from "./zoned_time.ts";
import { instants, minutesOfDay, ZONES } from "./calendar_arbitraries.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const dayOf = (date: string) => Date.parse(`${date}T00:00:00Z`) / DAY;

Deno.test("isValidTimeZone refuses the tz database's non-zones and names Intl does not know", () => {
  for (const name of ["posix/Europe/Berlin", "posixrules", "localtime", "Factory"]) {
    assert.equal(isValidTimeZone(name), false, name);
  }
  for (const name of ["Mars/Olympus", "", "Europe/Berlin "]) {
    assert.equal(isValidTimeZone(name), false, JSON.stringify(name));
  }
  for (const name of ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"]) {
    assert.equal(isValidTimeZone(name), true, name);
  }
});

Deno.test("offsetAt: local time minus UTC, across DST and for odd offsets", () => {
  assert.equal(offsetAt(Date.parse("2026-06-10T12:00:00Z"), "Europe/Berlin"), 2 * HOUR);
  assert.equal(offsetAt(Date.parse("2026-01-10T12:00:00Z"), "Europe/Berlin"), 1 * HOUR);
  assert.equal(offsetAt(Date.parse("2026-01-10T12:00:00Z"), "Asia/Kolkata"), 5.5 * HOUR);
  assert.equal(offsetAt(Date.parse("2026-01-10T12:00:00Z"), "America/St_Johns"), -3.5 * HOUR);
  // The instant of the jump already has the new offset.
  assert.equal(offsetAt(Date.parse("2026-03-29T01:00:00Z") - 1, "Europe/Berlin"), HOUR);
  assert.equal(offsetAt(Date.parse("2026-03-29T01:00:00Z"), "Europe/Berlin"), 2 * HOUR);
});

Deno.test("localDay and isoWeekday: the local date, not the UTC one", () => {
  const ms = Date.parse("2026-06-05T19:30:00Z"); // Friday in UTC, Saturday 01:00 in Kolkata
  assert.equal(localDay(ms, "UTC"), dayOf("2026-06-05"));
  assert.equal(localDay(ms, "Asia/Kolkata"), dayOf("2026-06-06"));
  assert.equal(isoWeekday(localDay(ms, "UTC")), 5);
  assert.equal(isoWeekday(localDay(ms, "Asia/Kolkata")), 6);
  assert.equal(isoWeekday(dayOf("2026-06-01")), 1);
  assert.equal(isoWeekday(dayOf("2026-06-07")), 7);
  assert.equal(isoWeekday(dayOf("1969-12-31")), 3); // before the epoch too
});

const instantTable: { name: string; tz: string; date: string; time: string; utc: string }[] = [
  { name: "UTC", tz: "UTC", date: "2026-06-10", time: "12:00", utc: "2026-06-10T12:00:00Z" },
  {
    name: "Berlin, summer",
    tz: "Europe/Berlin",
    date: "2026-06-10",
    time: "12:00",
    utc: "2026-06-10T10:00:00Z",
  },
  {
    name: "Berlin, 02:30 in the spring-forward gap: the jump to 03:00",
    tz: "Europe/Berlin",
    date: "2026-03-29",
    time: "02:30",
    utc: "2026-03-29T01:00:00Z",
  },
  {
    name: "Berlin, 02:30 twice at fall back: the earlier (CEST)",
    tz: "Europe/Berlin",
    date: "2026-10-25",
    time: "02:30",
    utc: "2026-10-25T00:30:00Z",
  },
  {
    name: "New York, 02:30 in the gap: 03:00 EDT",
    tz: "America/New_York",
    date: "2026-03-08",
    time: "02:30",
    utc: "2026-03-08T07:00:00Z",
  },
  {
    name: "New York, 01:30 twice: the earlier (EDT)",
    tz: "America/New_York",
    date: "2026-11-01",
    time: "01:30",
    utc: "2026-11-01T05:30:00Z",
  },
  {
    name: "Lord Howe, 02:15 in a 30-minute gap: 02:30",
    tz: "Australia/Lord_Howe",
    date: "2026-10-04",
    time: "02:15",
    utc: "2026-10-03T15:30:00Z",
  },
  {
    name: "Kolkata, half-hour offset",
    tz: "Asia/Kolkata",
    date: "2026-01-16",
    time: "07:30",
    utc: "2026-01-16T02:00:00Z",
  },
];

for (const { name, tz, date, time, utc } of instantTable) {
  Deno.test(`instantOf: ${name}`, () => {
    const minute = Number(time.slice(0, 2)) * 60 + Number(time.slice(3));
    assert.equal(
      new Date(instantOf({ day: dayOf(date), minute }, tz)).toISOString(),
      new Date(utc).toISOString(),
    );
  });
}

Deno.test("formatLocal: the local wall clock to the minute", () => {
  assert.equal(
    formatLocal(Date.parse("2026-03-29T01:00:00Z"), "Europe/Berlin"),
    "2026-03-29 03:00",
  );
  assert.equal(
    formatLocal(Date.parse("2026-03-29T00:59:59Z"), "Europe/Berlin"),
    "2026-03-29 01:59",
  );
  assert.equal(formatLocal(Date.parse("2026-06-10T23:00:00Z"), "UTC"), "2026-06-10 23:00");
});

Deno.test("wallClock: midnight is hour 0", () => {
  assert.deepEqual(wallClock(Date.parse("2026-06-10T22:00:00Z"), "Europe/Berlin"), {
    year: 2026,
    month: 6,
    day: 11,
    hour: 0,
    minute: 0,
    second: 0,
  });
});

// The local date and minute of `ms`, read off the wall clock.
function reading(ms: number, tz: string): { day: number; minute: number } {
  const w = wallClock(ms, tz);
  return { day: Date.UTC(w.year, w.month - 1, w.day) / DAY, minute: w.hour * 60 + w.minute };
}

Deno.test("property: instantOf names the earliest instant with a reading", () => {
  fc.assert(
    fc.property(fc.constantFrom(...ZONES), instants, (tz, now) => {
      const t = Math.floor(now.getTime() / MINUTE) * MINUTE;
      const r = reading(t, tz);
      const found = instantOf(r, tz);
      assert.deepEqual(reading(found, tz), r, "the clock reads it then");
      // Earliest: it is t itself, or t's reading came round again after a fall back.
      assert.ok(found <= t);
      if (found < t) assert.ok(offsetAt(found, tz) > offsetAt(t, tz), "only a fold repeats");
    }),
    { numRuns: 500 },
  );
});

Deno.test("property: a reading the clock skips names the moment of the jump", () => {
  fc.assert(
    fc.property(fc.constantFrom(...ZONES), instants, minutesOfDay, (tz, near, minute) => {
      const day = localDay(near.getTime(), tz);
      const found = instantOf({ day, minute }, tz);
      const r = reading(found, tz);
      if (r.day === day && r.minute === minute) return; // the clock reads it
      // The clock jumped over the reading: just before, it read earlier; from `found`, later.
      assert.ok(offsetAt(found - 1_000, tz) < offsetAt(found, tz), "a forward jump at found");
      const before = reading(found - 1_000, tz);
      assert.ok(before.day * 1440 + before.minute < day * 1440 + minute);
      assert.ok(r.day * 1440 + r.minute > day * 1440 + minute);
    }),
    { numRuns: 500 },
  );
});
