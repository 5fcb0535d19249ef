//! Axis arithmetic: round tick values for counts, and UTC time labels for
//! buckets, thinned so that they do not overlap.

use onramp_domain::clock::Millis;
use onramp_domain::usage::buckets::Granularity;
use time::OffsetDateTime;

/// At most this many labels on the x axis (about 70 px each at 640 px).
const MAX_TIME_LABELS: usize = 8;

/// Round tick values from 0 to at least `max`: 1, 2 or 5 times a power of
/// ten apart, about four intervals, never fractional. `max` 0 gives `[0, 1]`.
pub(crate) fn ticks(max: i64) -> Vec<i64> {
    let max = max.max(1);
    let rough = max as f64 / 4.0;
    let mut magnitude: i64 = 1;
    while (magnitude as f64) * 10.0 <= rough {
        magnitude *= 10;
    }
    let step = [1, 2, 5, 10]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| (*s as f64) >= rough)
        .unwrap_or(10 * magnitude);
    let top = (max + step - 1) / step * step;
    (0..=top / step).map(|i| i * step).collect()
}

/// A count in few characters: `950`, `2.5k`, `40k`, `1.2M`.
pub(crate) fn compact(n: i64) -> String {
    let short = |value: f64, unit: &str| {
        let text = format!("{value:.1}");
        format!("{}{unit}", text.strip_suffix(".0").unwrap_or(&text))
    };
    match n.unsigned_abs() {
        0..1_000 => n.to_string(),
        1_000..1_000_000 => short(n as f64 / 1e3, "k"),
        1_000_000..1_000_000_000 => short(n as f64 / 1e6, "M"),
        _ => short(n as f64 / 1e9, "G"),
    }
}

/// A count with thousands separators: `12,345`.
pub(crate) fn grouped(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn utc(ms: Millis) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// `Nov 28`.
pub(crate) fn day_label(ms: Millis) -> String {
    let t = utc(ms);
    format!("{} {}", MONTHS[usize::from(u8::from(t.month())) - 1], t.day())
}

/// `14:00`.
pub(crate) fn clock_label(ms: Millis) -> String {
    let t = utc(ms);
    format!("{:02}:{:02}", t.hour(), t.minute())
}

/// The bucket's start in full, for tables: `2024-11-28 14:00` (hours,
/// minutes) or `2024-11-28` (days), UTC.
pub(crate) fn full_label(ms: Millis, granularity: Granularity) -> String {
    let t = utc(ms);
    let date = format!("{}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day());
    match granularity {
        Granularity::Day => date,
        Granularity::Hour | Granularity::Minute => format!("{date} {}", clock_label(ms)),
    }
}

/// The x-axis label of each bucket, `None` where it is left out so labels
/// do not crowd. Hours and minutes are labelled on round clock times (every
/// 3 hours, every 15 minutes…), a UTC midnight by its date; days every k-th
/// day from the first.
pub(crate) fn time_labels(starts: &[Millis], granularity: Granularity) -> Vec<Option<String>> {
    let n = starts.len();
    match granularity {
        Granularity::Day => {
            let every = n.div_ceil(MAX_TIME_LABELS).max(1);
            starts
                .iter()
                .enumerate()
                .map(|(i, s)| i.is_multiple_of(every).then(|| day_label(*s)))
                .collect()
        }
        Granularity::Hour | Granularity::Minute => {
            let candidates: &[i64] = match granularity {
                Granularity::Hour => &[1, 2, 3, 4, 6, 12, 24, 48, 72, 168],
                _ => &[1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440],
            };
            let step = granularity.millis();
            let every = candidates
                .iter()
                .copied()
                .find(|k| n.div_ceil(*k as usize) <= MAX_TIME_LABELS)
                .unwrap_or(*candidates.last().unwrap_or(&1));
            starts
                .iter()
                .map(|s| {
                    ((s / step) % every == 0).then(|| {
                        if s.rem_euclid(Granularity::Day.millis()) == 0 {
                            day_label(*s)
                        } else {
                            clock_label(*s)
                        }
                    })
                })
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2024-11-28T00:00:00Z.
    const NOV_28: Millis = 1_732_752_000_000;
    const H: Millis = 3_600_000;

    #[test]
    fn ticks_are_round_and_cover_the_maximum() {
        assert_eq!(ticks(0), vec![0, 1]);
        assert_eq!(ticks(1), vec![0, 1]);
        assert_eq!(ticks(3), vec![0, 1, 2, 3]);
        assert_eq!(ticks(7), vec![0, 2, 4, 6, 8]);
        assert_eq!(ticks(10), vec![0, 5, 10]);
        assert_eq!(ticks(97), vec![0, 50, 100]);
        assert_eq!(ticks(1234), vec![0, 500, 1000, 1500]);
        assert_eq!(ticks(60_001), vec![0, 20_000, 40_000, 60_000, 80_000]);
        for max in [1, 9, 11, 99, 101, 4_321, 999_999, 1_000_001] {
            let t = ticks(max);
            let step = t[1];
            assert!(*t.last().unwrap() >= max, "{max}: {t:?}");
            assert!(t.len() <= 6, "{max}: {t:?}");
            let mantissa = step / 10_i64.pow(step.ilog10());
            assert!([1, 2, 5].contains(&mantissa), "{max}: step {step}");
        }
    }

    #[test]
    fn counts_are_short_on_the_axis_and_grouped_in_text() {
        assert_eq!(compact(950), "950");
        assert_eq!(compact(2_500), "2.5k");
        assert_eq!(compact(40_000), "40k");
        assert_eq!(compact(1_200_000), "1.2M");
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1_000), "1,000");
        assert_eq!(grouped(1_234_567), "1,234,567");
    }

    #[test]
    fn labels_are_utc() {
        assert_eq!(day_label(NOV_28), "Nov 28");
        assert_eq!(clock_label(NOV_28 + 14 * H), "14:00");
        assert_eq!(full_label(NOV_28 + 14 * H + 5 * 60_000, Granularity::Minute), "2024-11-28 14:05");
        assert_eq!(full_label(NOV_28 + 23 * H, Granularity::Day), "2024-11-28");
        assert_eq!(full_label(NOV_28 - H, Granularity::Hour), "2024-11-27 23:00");
    }

    #[test]
    fn a_day_of_hours_is_labelled_every_three_hours_and_midnight_by_its_date() {
        let starts: Vec<Millis> = (0..24).map(|i| NOV_28 - 10 * H + i * H).collect();
        let labels = time_labels(&starts, Granularity::Hour);
        let shown: Vec<&str> = labels.iter().flatten().map(String::as_str).collect();
        assert_eq!(shown, ["15:00", "18:00", "21:00", "Nov 28", "03:00", "06:00", "09:00", "12:00"]);
        assert_eq!(labels[0], None, "14:00 is not a multiple of 3 hours");
    }

    #[test]
    fn thirty_days_get_at_most_eight_labels_and_seven_get_all() {
        let days: Vec<Millis> = (0..30).map(|i| NOV_28 + i * 24 * H).collect();
        let labels = time_labels(&days, Granularity::Day);
        assert!(labels.iter().flatten().count() <= MAX_TIME_LABELS);
        assert_eq!(labels[0].as_deref(), Some("Nov 28"));
        assert_eq!(labels[4].as_deref(), Some("Dec 2"));
        let week = time_labels(&days[..7], Granularity::Day);
        assert!(week.iter().all(Option::is_some));
    }
}
