// Zoned-time arithmetic on Intl.DateTimeFormat, the only time zone database the Edge Runtime
// has: the wall clock and UTC offset at an instant, the local date, and the instant a local
// wall-clock time names (with the rules for DST gaps and folds). Pure, no I/O.
//
// A local date is a count of days since 1970-01-01, a local time a count of minutes after
// local midnight: integers are cheap to compare and step through on the calendar.

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const DAY = 24 * 60 * MINUTE;

// Building a formatter costs far more than using one; a process sees few zones.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/**
 * Names the tz database ships besides zones. Postgres lists them in pg_timezone_names;
 * Intl rejects most of them. internal.is_valid_time_zone (SQL) refuses the same names.
 */
const notAZone = /^(posix\/|posixrules$|localtime$|Factory$)/;

/**
 * A time zone quiet hours may name: not one of the tz database's non-zones, and known to this
 * runtime's Intl (the Edge Runtime's only time zone database). The SQL check applies the
 * first half and asks Postgres for the second; a test compares the two over every name
 * Postgres knows.
 */
export function isValidTimeZone(name: string): boolean {
  if (notAZone.test(name)) return false;
  try {
    formatterFor(name);
    return true;
  } catch {
    return false;
  }
}

export interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** What a clock in `tz` reads at the instant `ms`. */
export function wallClock(ms: number, tz: string): WallClock {
  const wall: WallClock = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const part of formatterFor(tz).formatToParts(ms)) {
    if (part.type in wall) wall[part.type as keyof WallClock] = Number(part.value);
  }
  if (wall.hour === 24) wall.hour = 0; // engines that ignore hourCycle write midnight as 24
  return wall;
}

// Date.UTC maps years 0..99 to 19xx; setUTCFullYear does not.
function utcMs(w: WallClock): number {
  const d = new Date(0);
  d.setUTCFullYear(w.year, w.month - 1, w.day);
  d.setUTCHours(w.hour, w.minute, w.second, 0);
  return d.getTime();
}

/** Local time minus UTC at the instant `ms`, in ms (Berlin in summer: +2 h). */
export function offsetAt(ms: number, tz: string): number {
  const whole = Math.floor(ms / SECOND) * SECOND;
  return utcMs(wallClock(whole, tz)) - whole;
}

/** The local date at `ms`, as days since 1970-01-01. */
export function localDay(ms: number, tz: string): number {
  return Math.floor((ms + offsetAt(ms, tz)) / DAY);
}

/** ISO weekday (1 = Monday … 7 = Sunday) of a date given as days since 1970-01-01. */
export function isoWeekday(day: number): number {
  return ((((day + 3) % 7) + 7) % 7) + 1; // 1970-01-01 was a Thursday (4)
}

/**
 * The instant the local clock reads `minute` minutes after midnight on local date `day`: the
 * earlier one when it reads that twice (fall back), the end of the gap, i.e. the moment of
 * the transition, when it never does (spring forward).
 */
export function instantOf({ day, minute }: { day: number; minute: number }, tz: string): number {
  const wall = day * DAY + minute * MINUTE; // the wall-clock reading, written as if UTC
  // Offsets a day either side: DST transitions are months apart, so these two are the only
  // offsets in force around `wall`.
  const before = offsetAt(wall - DAY, tz);
  const after = offsetAt(wall + DAY, tz);
  let earliest = Infinity;
  for (const offset of before === after ? [before] : [before, after]) {
    const t = wall - offset;
    if (offsetAt(t, tz) === offset && t < earliest) earliest = t;
  }
  if (earliest !== Infinity) return earliest;
  if (after <= before) return wall - before; // no forward jump in sight; cannot happen in tzdb
  // Spring forward: the clock jumps from before `wall` to after it. Binary-search the jump to
  // the second: offset(lo) is `before`, offset(hi) is not.
  let lo = wall - after;
  let hi = wall - before;
  while (hi - lo > SECOND) {
    const mid = lo + Math.floor((hi - lo) / (2 * SECOND)) * SECOND;
    if (offsetAt(mid, tz) === before) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** "YYYY-MM-DD HH:MM" as the clock in `tz` reads at `ms`. */
export function formatLocal(ms: number, tz: string): string {
  const w = wallClock(ms, tz);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${w.year}-${pad(w.month)}-${pad(w.day)} ${pad(w.hour)}:${pad(w.minute)}`;
}
