// Quiet hours: wall-clock windows in the tenant's time zone during which envelopes wait,
// turned into real instants with zoned_time.ts:
// * A window occurrence belongs to the local date it starts on; `days` filters on that date's
//   ISO weekday, so a Friday 22:00–06:00 window covers Saturday early morning. An empty `days`
//   list matches no day (the window is off); a missing one matches every day.
// * end < start crosses midnight; end == start is a whole wall-clock day (23 or 25 real hours
//   across a DST change).
// * A wall-clock time that does not exist (spring forward) means the first instant after the
//   gap, i.e. the moment of the transition: a window ending at 02:30 in Berlin on 29 March 2026
//   ends at 03:00 CEST. A time that exists twice (fall back) means its EARLIER occurrence, for
//   starts and ends alike (what Temporal calls "compatible"), so a window ending at 02:30 on
//   25 October 2026 ends at 02:30 CEST and the repeated 02:00–02:30 CET is outside it. Each
//   occurrence is then a half-open interval of instants [start, end), and `now` is quiet when
//   it lies in one. Windows that overlap or touch form one quiet period; deferral runs to its
//   end.
// * Quiet hours covering the whole week never end; the deferral then stops at the first
//   occurrence end at least 7 days ahead and says so, so that the envelope is looked at again.
//
// The stored form ("HH:MM" strings, weekday lists) is parsed once, by quietHoursSchema, into
// a QuietSchedule of minute offsets and weekday sets; the calendar works on that alone.
import { z } from "zod";
import { instantOf, isoWeekday, isValidTimeZone, localDay } from "./zoned_time.ts";
import { describeValue } from "./describe_value.ts";

/** The quiet_hours column's windows: "HH:MM" local times; days = ISO weekdays of the start. */
export interface QuietWindow {
  start: string;
  end: string;
  /** 1 = Monday … 7 = Sunday. */
  days?: number[];
}

/** The quiet_hours column as stored. */
export interface QuietHours {
  /** IANA time zone name, e.g. "Europe/Berlin". */
  timezone: string;
  windows: QuietWindow[];
}

/** A window ready to lay out on the calendar. */
export interface ScheduledWindow {
  /** Minutes after local midnight. */
  startMinute: number;
  endMinute: number;
  /** ISO weekdays of the start date; null = every day. */
  days: ReadonlySet<number> | null;
}

/** Quiet hours parsed: a time zone isValidTimeZone accepts and windows in minutes. */
export interface QuietSchedule {
  timezone: string;
  windows: readonly ScheduledWindow[];
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
// Past this, quiet hours are taken to cover the whole week (see the header).
const QUIET_HORIZON = 7 * DAY;

// ---------------------------------------------------------------------------------------
// Parsing. Each message is the complaint about one field; the caller puts the field's path
// in front (guardrail_config.ts), so "must be …" reads as "quiet_hours.windows[0].start must …".

const HH_MM = /^([01][0-9]|2[0-3]):([0-5][0-9])$/;

const localTime = z
  .string({ error: (iss) => `must be a string "HH:MM", got ${describeValue(iss.input)}` })
  .regex(HH_MM, {
    error: (iss) => `must be a time "HH:MM" from 00:00 to 23:59, got "${iss.input}"`,
  })
  .transform((hhmm) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3)));

const weekdayMessage = (iss: { input?: unknown }) =>
  `must be an ISO weekday 1..7 (1 = Monday), got ${describeValue(iss.input)}`;
const weekday = z
  .number({ error: weekdayMessage })
  .refine((d) => Number.isInteger(d) && d >= 1 && d <= 7, { error: weekdayMessage });

const windowSchema = z
  .object({
    start: localTime,
    end: localTime,
    days: z.array(weekday, {
      error: (iss) => `must be an array of ISO weekdays 1..7, got ${describeValue(iss.input)}`,
    }).optional(),
  }, {
    error: (iss) => `must be an object {start, end, days?}, got ${describeValue(iss.input)}`,
  })
  .transform(({ start, end, days }): ScheduledWindow => ({
    startMinute: start,
    endMinute: end,
    days: days === undefined ? null : new Set(days),
  }));

const timeZone = z
  .string({ error: (iss) => `must be an IANA time zone name, got ${describeValue(iss.input)}` })
  .min(1, { error: () => `must be an IANA time zone name, got ""` })
  .refine(isValidTimeZone, {
    error: (iss) => `"${iss.input}" is not a known IANA time zone`,
  });

/** The quiet_hours column → QuietSchedule. */
export const quietHoursSchema: z.ZodType<QuietSchedule> = z.object({
  timezone: timeZone,
  windows: z.array(windowSchema, {
    error: (iss) => `must be an array, got ${describeValue(iss.input)}`,
  }),
}, {
  error: (iss) => `must be an object {timezone, windows}, got ${describeValue(iss.input)}`,
});

// ---------------------------------------------------------------------------------------
// The calendar

/**
 * End of the quiet period containing `now` (overlapping and touching windows merged), or null
 * when `now` is outside quiet hours. For quiet hours covering the whole week, the first window
 * end at least 7 days ahead.
 */
export function quietHoursEnd(schedule: QuietSchedule, now: Date): Date | null {
  if (!(now instanceof Date)) throw new TypeError(`now must be a Date, got ${describeValue(now)}`);
  const nowMs = now.getTime();
  if (Number.isNaN(nowMs)) throw new RangeError("now must be a valid Date, got Invalid Date");
  const quiet = quietPeriodEnd(schedule, nowMs);
  return quiet === null ? null : new Date(quiet.end);
}

/** [start, end) in epoch ms. */
type Occurrence = readonly [number, number];

/**
 * quietHoursEnd in epoch ms for a valid `nowMs`; `capped` when the period reached the 7-day
 * horizon (quiet hours covering the whole week) and `end` is where the search stopped.
 */
export function quietPeriodEnd(
  { timezone: tz, windows }: QuietSchedule,
  nowMs: number,
): { end: number; capped: boolean } | null {
  if (windows.length === 0) return null;

  const occurrencesOn = (day: number): Occurrence[] => {
    const out: Occurrence[] = [];
    for (const w of windows) {
      if (w.days !== null && !w.days.has(isoWeekday(day))) continue;
      const start = instantOf({ day, minute: w.startMinute }, tz);
      const endDay = w.endMinute > w.startMinute ? day : day + 1;
      const end = instantOf({ day: endDay, minute: w.endMinute }, tz);
      // Empty when the whole window fell into a spring-forward gap.
      if (end > start) out.push([start, end]);
    }
    return out;
  };

  // An occurrence lasts at most one wall-clock day, so only those starting on the previous
  // two local dates or today can contain now (two, not one, for safety around DST changes).
  const today = localDay(nowMs, tz);
  const pool: Occurrence[] = [];
  for (let day = today - 2; day <= today; day++) pool.push(...occurrencesOn(day));
  let nextDay = today + 1;

  let end = -Infinity;
  for (const [s, e] of pool) if (s <= nowMs && nowMs < e && e > end) end = e;
  if (end === -Infinity) return null;

  for (;;) {
    // Occurrences starting on a later date start later, so dates up to the day after `end`'s
    // local date are all that can touch the period.
    while (localDay(end, tz) + 1 >= nextDay) pool.push(...occurrencesOn(nextDay++));
    let next = end;
    for (const [s, e] of pool) if (s <= end && e > next) next = e;
    if (next === end) return { end, capped: false };
    if (end - nowMs >= QUIET_HORIZON) return { end, capped: true };
    end = next;
  }
}
