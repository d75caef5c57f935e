/**
 * ISO-8601 durations as Knative's DeliverySpec writes them (`PT0.2S`, `PT1M`, `P1DT2H`), read into
 * milliseconds. Years and months have no fixed length, so they are refused rather than guessed.
 */

const ISO_DURATION = /^P(?!$)(?:(\d+(?:[.,]\d+)?)Y)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)W)?(?:(\d+(?:[.,]\d+)?)D)?(?:T(?=\d)(?:(\d+(?:[.,]\d+)?)H)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)S)?)?$/;

const MS_PER = { W: 604_800_000, D: 86_400_000, H: 3_600_000, M: 60_000, S: 1000 } as const;

/** Why a duration cannot be read, for the message that names the field. */
export type DurationProblem = 'not-iso' | 'calendar';

/**
 * The length of an ISO-8601 duration in milliseconds (rounded to a whole millisecond), or the
 * reason it cannot be read: `not-iso` for text that is not a duration, `calendar` for one that
 * uses years or months.
 */
export function isoDurationMs(text: string): number | DurationProblem {
  const m = ISO_DURATION.exec(text.trim().toUpperCase());
  if (m === null) return 'not-iso';
  if (m[1] !== undefined || m[2] !== undefined) return 'calendar';
  const parts: [string | undefined, number][] = [
    [m[3], MS_PER.W],
    [m[4], MS_PER.D],
    [m[5], MS_PER.H],
    [m[6], MS_PER.M],
    [m[7], MS_PER.S],
  ];
  let ms = 0;
  for (const [value, unit] of parts) {
    if (value !== undefined) ms += Number(value.replace(',', '.')) * unit;
  }
  return Math.round(ms);
}

/** The message for a duration that cannot be read: `"2s" is not an ISO-8601 duration such as PT2S`. */
export function durationProblemMessage(text: string, problem: DurationProblem): string {
  if (problem === 'calendar') {
    return `${JSON.stringify(text)} uses years or months, which have no fixed length; use days, hours, minutes or seconds (e.g. P30D, PT12H)`;
  }
  return `${JSON.stringify(text)} is not an ISO-8601 duration such as ${suggestion(text)}`;
}

/** `2s` → PT2S, `500ms` → PT0.5S, `1m` → PT1M; otherwise PT0.2S. */
function suggestion(text: string): string {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/i.exec(text);
  if (m === null || m[1] === undefined || m[2] === undefined) return 'PT0.2S';
  const value = Number(m[1]);
  switch (m[2].toLowerCase()) {
    case 'ms':
      return `PT${value / 1000}S`;
    case 'm':
      return `PT${value}M`;
    case 'h':
      return `PT${value}H`;
    default:
      return `PT${value}S`;
  }
}
