/**
 * A time zone where it is now about noon: a test that reasons about a calendar day's window ("tomorrow's unit", a job
 * expiring before the reset) stops holding in the last minutes or hour before that window's midnight, in whichever
 * zone it is (CI ran quotas.test.ts at 23:09 UTC, and dashboard.test.ts at 23:00 UTC, Madrid's midnight, and failed).
 */
export function noonZone(now = new Date()): string {
  const east = 12 - now.getUTCHours(); // hours east of UTC, -11..12
  return east > 0 ? `Etc/GMT-${east}` : `Etc/GMT+${-east}`;
}
