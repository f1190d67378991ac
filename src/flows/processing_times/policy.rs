//! USCIS-style processing times, computed from casegate's own decisions.
//!
//! USCIS publishes, per form and office, the time within which 80% of the
//! cases *decided* in the last six months were decided (receipt → approval or
//! denial). This module computes the same figure from a list of decided cases,
//! derives the "receipt date for a case inquiry" (cases received *before* it
//! may file an inquiry), tells an applicant whether their case is outside
//! normal processing time. The chart of the distribution is drawn by
//! [`super::chart`].
//!
//! The module is pure: it has no crate-internal dependencies, does no I/O and
//! never reads the clock — "today" is always a parameter.
//!
//! # Percentiles
//!
//! All percentiles use the **nearest-rank method** (see [`percentile_days`]):
//! the p-th percentile of `n` values is the value at 1-based rank
//! `ceil(p / 100 × n)` in ascending order, i.e. the smallest value such that at
//! least p% of the values are ≤ it. It is always one of the observed values
//! (no interpolation). The median is the same method with p = 50, so for an
//! even count it is the *lower* of the two middle values; this guarantees
//! `median_days ≤ p80_days ≤ max_days`.

use std::collections::BTreeMap;

use chrono::{Days, Months, NaiveDate};

/// Length of the look-back window, in calendar months.
pub const WINDOW_MONTHS: u32 = 6;

/// A (form, office) pair needs at least this many decided cases inside the
/// window before a figure is published for it.
pub const MIN_CASES: usize = 5;

/// The percentile published as "processing time".
pub const PERCENTILE: f64 = 80.0;

/// Maximum number of histogram buckets in a [`Figure`].
pub const HISTOGRAM_BUCKETS: usize = 10;

/// One decided case: the input to [`compute`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decided {
    pub form: String,
    pub office: String,
    pub received: NaiveDate,
    pub decided: NaiveDate,
}

/// The published processing time for one (form, office) pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Figure {
    pub form: String,
    pub office: String,
    /// Number of decided cases in the window that the figure is based on.
    pub cases: usize,
    /// 80% of `cases` were decided within this many days (nearest rank).
    pub p80_days: u32,
    /// Median processing time in days (nearest rank, lower median).
    pub median_days: u32,
    /// Longest processing time in the window, in days.
    pub max_days: u32,
    /// `today - p80_days`: cases received *before* this date may file an
    /// inquiry.
    pub inquiry_date: NaiveDate,
    /// Width of each histogram bucket in days (≥ 1).
    pub bucket_days: u32,
    /// `(bucket start in days, count)`, ascending, contiguous, including
    /// empty buckets; see [`histogram`].
    pub histogram: Vec<(u32, usize)>,
}

/// Where an applicant's case stands relative to normal processing time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseTiming {
    /// Still within normal processing time; 80% of comparable cases were
    /// decided by `expected_by` (= received + p80 days).
    Within { expected_by: NaiveDate },
    /// Outside normal processing time, which ended on `since`
    /// (= received + p80 days, strictly before today). The applicant may file
    /// a case inquiry.
    Outside { since: NaiveDate },
    /// No published figure for this form/office (too few decisions), or the
    /// date arithmetic would leave the supported calendar range.
    Unknown,
}

/// First day of the look-back window: [`WINDOW_MONTHS`] calendar months before
/// `today`. Decisions on or after this date (and not after `today`) count.
///
/// When the target month is shorter, the day is clamped to its last day
/// (e.g. 2024-08-31 → 2024-02-29). Saturates at [`NaiveDate::MIN`].
#[must_use]
pub fn window_start(today: NaiveDate) -> NaiveDate {
    today
        .checked_sub_months(Months::new(WINDOW_MONTHS))
        .unwrap_or(NaiveDate::MIN)
}

/// Nearest-rank percentile of `durations` (sorted in place).
///
/// Returns the value at 1-based rank `ceil(p / 100 × n)` (rank at least 1) of
/// the ascending values: the smallest observed value such that at least `p`%
/// of the values are ≤ it. No interpolation, so the result is always one of
/// the inputs. `p = 0` yields the minimum, `p = 100` the maximum.
///
/// Returns `None` when `durations` is empty or `p` is not within `0.0..=100.0`
/// (including NaN).
///
/// For integral `p` the rank is exact: `p × n` is an exact integer in `f64`
/// for any realistic `n`, and dividing a multiple of 100 by 100 is exact.
#[must_use]
pub fn percentile_days(durations: &mut [u32], p: f64) -> Option<u32> {
    if durations.is_empty() || !(0.0..=100.0).contains(&p) {
        return None;
    }
    durations.sort_unstable();
    let n = durations.len();
    let exact = p * n as f64 / 100.0;
    // `exact` is within 0..=n, so the cast cannot truncate meaningfully.
    let rank = (exact.ceil() as usize).clamp(1, n);
    durations.get(rank - 1).copied()
}

/// Equal-width histogram of `durations` over `0..=max`.
///
/// The bucket width is `ceil((max + 1) / buckets)` days (at least 1), so there
/// are at most `buckets` buckets — fewer when the values span fewer days than
/// requested. Bucket `i` covers days `i·width ..= (i+1)·width − 1`. Buckets
/// are returned as `(start, count)` in ascending order, contiguous from 0 to
/// the bucket holding `max`, including empty ones. The counts always sum to
/// `durations.len()`. Empty input or `buckets == 0` gives an empty vector.
#[must_use]
pub fn histogram(durations: &[u32], buckets: usize) -> Vec<(u32, usize)> {
    let Some(width) = bucket_width(durations, buckets) else {
        return Vec::new();
    };
    histogram_with_width(durations, width)
}

/// Bucket width used by [`histogram`]; `None` for empty input or zero buckets.
/// At most `max + 1 ≤ 2^32`, hence `u64`.
fn bucket_width(durations: &[u32], buckets: usize) -> Option<u64> {
    let max = u64::from(*durations.iter().max()?);
    let buckets = u64::try_from(buckets).ok().filter(|&b| b > 0)?;
    Some((max + 1).div_ceil(buckets).max(1))
}

fn histogram_with_width(durations: &[u32], width: u64) -> Vec<(u32, usize)> {
    let width = width.max(1);
    let index = |d: u32| usize::try_from(u64::from(d) / width).unwrap_or(usize::MAX);
    let Some(&max) = durations.iter().max() else {
        return Vec::new();
    };
    let mut counts = vec![0usize; index(max).saturating_add(1)];
    for &d in durations {
        if let Some(c) = counts.get_mut(index(d)) {
            *c += 1;
        }
    }
    counts
        .into_iter()
        .enumerate()
        // i ≤ max / width, so i · width ≤ max fits in u32.
        .map(|(i, c)| {
            let start = (i as u64).saturating_mul(width);
            (u32::try_from(start).unwrap_or(u32::MAX), c)
        })
        .collect()
}

/// Computes one [`Figure`] per (form, office) pair with at least
/// [`MIN_CASES`] decisions in the window, sorted by form then office (byte
/// order).
///
/// A row counts when `window_start(today) <= decided <= today`. Its duration
/// is `decided - received` in whole days; rows with a negative duration (bad
/// data) are ignored and do not count towards [`MIN_CASES`]. Same-day
/// decisions count as 0 days.
#[must_use]
pub fn compute(decided: &[Decided], today: NaiveDate) -> Vec<Figure> {
    let start = window_start(today);
    let mut groups: BTreeMap<(&str, &str), Vec<u32>> = BTreeMap::new();
    for row in decided {
        if row.decided < start || row.decided > today {
            continue;
        }
        let Ok(days) = u32::try_from((row.decided - row.received).num_days()) else {
            continue;
        };
        groups
            .entry((row.form.as_str(), row.office.as_str()))
            .or_default()
            .push(days);
    }
    groups
        .into_iter()
        .filter_map(|((form, office), durations)| figure(form, office, durations, today))
        .collect()
}

fn figure(form: &str, office: &str, mut durations: Vec<u32>, today: NaiveDate) -> Option<Figure> {
    if durations.len() < MIN_CASES {
        return None;
    }
    let p80_days = percentile_days(&mut durations, PERCENTILE)?;
    let median_days = percentile_days(&mut durations, 50.0)?;
    let max_days = *durations.last()?;
    let width = bucket_width(&durations, HISTOGRAM_BUCKETS)?;
    Some(Figure {
        form: form.to_owned(),
        office: office.to_owned(),
        cases: durations.len(),
        p80_days,
        median_days,
        max_days,
        inquiry_date: inquiry_date(today, p80_days),
        // Durations come from date differences (< 2^28 days), so this fits.
        bucket_days: u32::try_from(width).unwrap_or(u32::MAX),
        histogram: histogram_with_width(&durations, width),
    })
}

/// Receipt date for a case inquiry: `today - p80_days` (saturating at
/// [`NaiveDate::MIN`]). Cases received before it are outside normal
/// processing time.
#[must_use]
pub fn inquiry_date(today: NaiveDate, p80_days: u32) -> NaiveDate {
    today
        .checked_sub_days(Days::new(u64::from(p80_days)))
        .unwrap_or(NaiveDate::MIN)
}

/// The figure for `form` at `office`, if one was published.
#[must_use]
pub fn figure_for<'a>(figures: &'a [Figure], form: &str, office: &str) -> Option<&'a Figure> {
    figures
        .iter()
        .find(|f| f.form == form && f.office == office)
}

/// Whether a case received on `received` is within normal processing time
/// as of `today`.
///
/// `Outside` exactly when `today - received > p80_days`, i.e. when `received`
/// is before `today - p80_days` (the inquiry date as of `today`); a case
/// received exactly on the inquiry date is still `Within`, with
/// `expected_by == today`. Uses `today`, not `figure.inquiry_date`, so a
/// cached figure still gives the right answer on a later day.
#[must_use]
pub fn case_timing(received: NaiveDate, figure: Option<&Figure>, today: NaiveDate) -> CaseTiming {
    let Some(figure) = figure else {
        return CaseTiming::Unknown;
    };
    let Some(end) = received.checked_add_days(Days::new(u64::from(figure.p80_days))) else {
        return CaseTiming::Unknown;
    };
    if (today - received).num_days() > i64::from(figure.p80_days) {
        CaseTiming::Outside { since: end }
    } else {
        CaseTiming::Within { expected_by: end }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::flows::processing_times::chart::{ChartLabels, svg_chart};
    use proptest::prelude::*;

    pub(in crate::flows::processing_times) fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
    }

    pub(in crate::flows::processing_times) fn today() -> NaiveDate {
        d(2025, 6, 15)
    }

    /// A case decided `days_ago` days before today after `duration` days.
    pub(in crate::flows::processing_times) fn case(
        form: &str,
        office: &str,
        duration: i64,
        days_ago: i64,
    ) -> Decided {
        let decided = today() - chrono::Duration::days(days_ago);
        Decided {
            form: form.into(),
            office: office.into(),
            received: decided - chrono::Duration::days(duration),
            decided,
        }
    }

    pub(in crate::flows::processing_times) fn cases(
        form: &str,
        office: &str,
        durations: impl IntoIterator<Item = i64>,
    ) -> Vec<Decided> {
        durations
            .into_iter()
            .map(|x| case(form, office, x, 10))
            .collect()
    }

    pub(in crate::flows::processing_times) fn fig_with(p80: u32) -> Figure {
        Figure {
            form: "I-130".into(),
            office: "BOS".into(),
            cases: 10,
            p80_days: p80,
            median_days: p80 / 2,
            max_days: p80 + 5,
            inquiry_date: inquiry_date(today(), p80),
            bucket_days: 10,
            histogram: vec![],
        }
    }

    pub(in crate::flows::processing_times) fn labels() -> ChartLabels {
        ChartLabels {
            title: "Processing times: I-130 at Boston".into(),
            description: "80% of 10 cases were decided within 8 days.".into(),
            x_axis: "Days from receipt to decision".into(),
            y_axis: "Cases".into(),
            p80_marker: "80%: 8 days".into(),
        }
    }

    pub(in crate::flows::processing_times) fn only(figs: &[Figure]) -> &Figure {
        assert_eq!(figs.len(), 1, "{figs:?}");
        &figs[0]
    }

    // ---- percentile_days --------------------------------------------------

    #[test]
    fn p80_of_one_to_ten_is_eight() {
        let mut v: Vec<u32> = (1..=10).collect();
        assert_eq!(percentile_days(&mut v, 80.0), Some(8));
    }

    #[test]
    fn nearest_rank_small_cases() {
        let mut v: Vec<u32> = (1..=10).collect();
        assert_eq!(percentile_days(&mut v, 0.0), Some(1));
        assert_eq!(percentile_days(&mut v, 10.0), Some(1));
        assert_eq!(percentile_days(&mut v, 10.5), Some(2));
        assert_eq!(percentile_days(&mut v, 11.0), Some(2));
        assert_eq!(percentile_days(&mut v, 50.0), Some(5));
        assert_eq!(percentile_days(&mut v, 79.0), Some(8));
        assert_eq!(percentile_days(&mut v, 80.1), Some(9));
        assert_eq!(percentile_days(&mut v, 100.0), Some(10));
    }

    #[test]
    fn p80_of_hundred_cases() {
        let mut v: Vec<u32> = (1..=100).rev().collect();
        assert_eq!(percentile_days(&mut v, 80.0), Some(80));
        assert_eq!(percentile_days(&mut v, 50.0), Some(50));
        let mut v: Vec<u32> = (1..=101).collect();
        // ceil(0.8 × 101) = 81.
        assert_eq!(percentile_days(&mut v, 80.0), Some(81));
    }

    #[test]
    fn percentile_sorts_unsorted_input_in_place() {
        let mut v = vec![9, 3, 7, 1, 10, 2, 8, 4, 6, 5];
        assert_eq!(percentile_days(&mut v, 80.0), Some(8));
        assert_eq!(v, (1..=10).collect::<Vec<u32>>());
    }

    #[test]
    fn percentile_with_ties() {
        let mut v = vec![5, 5, 5, 5, 5, 5, 5, 5, 9, 9];
        assert_eq!(percentile_days(&mut v, 80.0), Some(5));
        let mut v = vec![5, 5, 5, 5, 5, 5, 5, 9, 9, 9];
        assert_eq!(percentile_days(&mut v, 80.0), Some(9));
        let mut v = vec![7; 20];
        assert_eq!(percentile_days(&mut v, 80.0), Some(7));
        assert_eq!(percentile_days(&mut v, 50.0), Some(7));
    }

    #[test]
    fn percentile_single_value_and_zero() {
        assert_eq!(percentile_days(&mut [42], 80.0), Some(42));
        assert_eq!(percentile_days(&mut [0, 0, 0], 80.0), Some(0));
    }

    #[test]
    fn percentile_rejects_empty_and_bad_p() {
        assert_eq!(percentile_days(&mut [], 80.0), None);
        let mut v = vec![1, 2, 3];
        assert_eq!(percentile_days(&mut v, -0.1), None);
        assert_eq!(percentile_days(&mut v, 100.1), None);
        assert_eq!(percentile_days(&mut v, f64::NAN), None);
        assert_eq!(percentile_days(&mut v, f64::INFINITY), None);
    }

    #[test]
    fn median_is_lower_median_for_even_counts() {
        let mut v = vec![1, 2, 3, 4];
        assert_eq!(percentile_days(&mut v, 50.0), Some(2));
        let mut v = vec![1, 2, 3, 4, 5];
        assert_eq!(percentile_days(&mut v, 50.0), Some(3));
    }

    // ---- window -----------------------------------------------------------

    #[test]
    fn window_start_is_six_calendar_months_back() {
        assert_eq!(window_start(d(2025, 6, 15)), d(2024, 12, 15));
        assert_eq!(window_start(d(2024, 7, 1)), d(2024, 1, 1));
        // Clamped to the end of a shorter month, leap and non-leap.
        assert_eq!(window_start(d(2024, 8, 31)), d(2024, 2, 29));
        assert_eq!(window_start(d(2025, 8, 31)), d(2025, 2, 28));
        assert_eq!(window_start(d(2025, 3, 31)), d(2024, 9, 30));
        assert_eq!(window_start(NaiveDate::MIN), NaiveDate::MIN);
    }

    #[test]
    fn decision_exactly_on_window_start_counts_day_before_does_not() {
        let start = window_start(today());
        let mk = |decided: NaiveDate| Decided {
            form: "I-130".into(),
            office: "BOS".into(),
            received: decided - chrono::Duration::days(30),
            decided,
        };
        let mut rows: Vec<Decided> = (0..4).map(|_| mk(start)).collect();
        // Four on the boundary: not enough.
        assert!(compute(&rows, today()).is_empty());
        // A fifth the day before the window: still not enough.
        rows.push(mk(start.pred_opt().expect("date")));
        assert!(compute(&rows, today()).is_empty());
        // A fifth exactly on window_start: enough.
        rows.push(mk(start));
        let figs = compute(&rows, today());
        assert_eq!(only(&figs).cases, 5);
    }

    #[test]
    fn decisions_today_count_future_ones_do_not() {
        let mut rows = cases("I-130", "BOS", [10, 10, 10, 10]);
        rows.push(case("I-130", "BOS", 10, 0));
        rows.push(case("I-130", "BOS", 999, -1));
        let figs = compute(&rows, today());
        let f = only(&figs);
        assert_eq!(f.cases, 5);
        assert_eq!(f.max_days, 10);
    }

    // ---- compute ----------------------------------------------------------

    #[test]
    fn compute_known_p80_one_to_ten() {
        let figs = compute(&cases("I-130", "BOS", 1..=10), today());
        let f = only(&figs);
        assert_eq!(f.form, "I-130");
        assert_eq!(f.office, "BOS");
        assert_eq!(f.cases, 10);
        assert_eq!(f.p80_days, 8);
        assert_eq!(f.median_days, 5);
        assert_eq!(f.max_days, 10);
        assert_eq!(f.inquiry_date, d(2025, 6, 7));
    }

    #[test]
    fn compute_known_p80_hundred_cases_spread_over_window() {
        let rows: Vec<Decided> = (1..=100)
            .map(|x| case("N-400", "NYC", x, x % 150))
            .collect();
        let figs = compute(&rows, today());
        let f = only(&figs);
        assert_eq!(f.cases, 100);
        assert_eq!(f.p80_days, 80);
        assert_eq!(f.median_days, 50);
        assert_eq!(f.inquiry_date, today() - chrono::Duration::days(80));
        assert_eq!(f.histogram.iter().map(|b| b.1).sum::<usize>(), 100);
    }

    #[test]
    fn compute_with_ties() {
        let figs = compute(
            &cases("I-485", "LA", [30, 30, 30, 30, 30, 30, 30, 30, 90, 120]),
            today(),
        );
        let f = only(&figs);
        assert_eq!(f.p80_days, 30);
        assert_eq!(f.median_days, 30);
        assert_eq!(f.max_days, 120);
    }

    #[test]
    fn min_cases_cut_off() {
        assert_eq!(MIN_CASES, 5);
        let below = cases("I-130", "BOS", [1, 2, 3, 4]);
        assert!(compute(&below, today()).is_empty());
        let at = cases("I-130", "BOS", [1, 2, 3, 4, 5]);
        let figs = compute(&at, today());
        let f = only(&figs);
        assert_eq!(f.cases, 5);
        assert_eq!(f.p80_days, 4);
        assert_eq!(f.median_days, 3);
    }

    #[test]
    fn negative_durations_are_ignored_and_do_not_count() {
        let mut rows = cases("I-130", "BOS", [1, 2, 3, 4]);
        rows.push(case("I-130", "BOS", -1, 10));
        assert!(compute(&rows, today()).is_empty());
        // A same-day decision (0 days) is valid.
        rows.push(case("I-130", "BOS", 0, 10));
        let figs = compute(&rows, today());
        let f = only(&figs);
        assert_eq!(f.cases, 5);
        assert_eq!(f.median_days, 2);
    }

    #[test]
    fn grouping_by_form_and_office_sorted() {
        let mut rows = Vec::new();
        rows.extend(cases("N-400", "NYC", [100; 5]));
        rows.extend(cases("I-130", "NYC", [20; 6]));
        rows.extend(cases("I-130", "BOS", [10; 7]));
        rows.extend(cases("I-130", "ATL", [1, 2, 3, 4])); // too few
        rows.extend(cases("N-400", "BOS", [50; 8]));
        // Same office string but other form must not merge.
        rows.extend(cases("I-765", "BOS", [1, 2]));
        let figs = compute(&rows, today());
        let keys: Vec<(&str, &str, usize, u32)> = figs
            .iter()
            .map(|f| (f.form.as_str(), f.office.as_str(), f.cases, f.p80_days))
            .collect();
        assert_eq!(
            keys,
            vec![
                ("I-130", "BOS", 7, 10),
                ("I-130", "NYC", 6, 20),
                ("N-400", "BOS", 8, 50),
                ("N-400", "NYC", 5, 100),
            ]
        );
        assert_eq!(figure_for(&figs, "N-400", "BOS").map(|f| f.cases), Some(8));
        assert!(figure_for(&figs, "I-130", "ATL").is_none());
    }

    #[test]
    fn compute_empty_input() {
        assert!(compute(&[], today()).is_empty());
    }

    // ---- inquiry date -----------------------------------------------------

    #[test]
    fn inquiry_date_arithmetic() {
        assert_eq!(inquiry_date(d(2025, 6, 15), 0), d(2025, 6, 15));
        assert_eq!(inquiry_date(d(2025, 6, 15), 15), d(2025, 5, 31));
        assert_eq!(inquiry_date(d(2025, 1, 10), 10), d(2024, 12, 31));
        // Across a leap day: 2024-03-01 minus 1 is 2024-02-29.
        assert_eq!(inquiry_date(d(2024, 3, 1), 1), d(2024, 2, 29));
        assert_eq!(inquiry_date(d(2025, 3, 1), 1), d(2025, 2, 28));
        assert_eq!(inquiry_date(d(2025, 6, 15), 365), d(2024, 6, 15));
        assert_eq!(inquiry_date(NaiveDate::MIN, 1), NaiveDate::MIN);
    }

    // ---- case_timing ------------------------------------------------------

    #[test]
    fn case_timing_boundary() {
        let f = fig_with(97);
        let inquiry = f.inquiry_date;
        assert_eq!(inquiry, d(2025, 3, 10));
        // Received exactly on the inquiry date: today - received == p80.
        assert_eq!(
            case_timing(inquiry, Some(&f), today()),
            CaseTiming::Within {
                expected_by: today()
            }
        );
        // One day earlier: outside, normal time ended yesterday.
        let before = inquiry.pred_opt().expect("date");
        assert_eq!(
            case_timing(before, Some(&f), today()),
            CaseTiming::Outside {
                since: d(2025, 6, 14)
            }
        );
        // One day later: within, expected tomorrow.
        let after = inquiry.succ_opt().expect("date");
        assert_eq!(
            case_timing(after, Some(&f), today()),
            CaseTiming::Within {
                expected_by: d(2025, 6, 16)
            }
        );
    }

    #[test]
    fn case_timing_far_sides_and_unknown() {
        let f = fig_with(30);
        assert_eq!(
            case_timing(d(2024, 1, 1), Some(&f), today()),
            CaseTiming::Outside {
                since: d(2024, 1, 31)
            }
        );
        assert_eq!(
            case_timing(today(), Some(&f), today()),
            CaseTiming::Within {
                expected_by: d(2025, 7, 15)
            }
        );
        // Received "in the future" (clock skew): still within.
        assert_eq!(
            case_timing(d(2025, 7, 1), Some(&f), today()),
            CaseTiming::Within {
                expected_by: d(2025, 7, 31)
            }
        );
        assert_eq!(case_timing(today(), None, today()), CaseTiming::Unknown);
        assert_eq!(
            case_timing(NaiveDate::MAX, Some(&f), today()),
            CaseTiming::Unknown
        );
    }

    #[test]
    fn case_timing_uses_its_today_not_the_cached_inquiry_date() {
        let f = fig_with(10); // inquiry date 2025-06-05 as of 2025-06-15
        let received = d(2025, 6, 5);
        assert!(matches!(
            case_timing(received, Some(&f), today()),
            CaseTiming::Within { .. }
        ));
        assert!(matches!(
            case_timing(received, Some(&f), d(2025, 6, 16)),
            CaseTiming::Outside { .. }
        ));
    }

    #[test]
    fn case_timing_zero_p80() {
        let f = fig_with(0);
        assert_eq!(
            case_timing(today(), Some(&f), today()),
            CaseTiming::Within {
                expected_by: today()
            }
        );
        assert_eq!(
            case_timing(d(2025, 6, 14), Some(&f), today()),
            CaseTiming::Outside {
                since: d(2025, 6, 14)
            }
        );
    }

    // ---- histogram --------------------------------------------------------

    #[test]
    fn histogram_equal_width_buckets() {
        let v: Vec<u32> = (1..=10).collect();
        // max + 1 = 11 days over 5 buckets → width 3: 0-2, 3-5, 6-8, 9-11.
        assert_eq!(histogram(&v, 5), vec![(0, 2), (3, 3), (6, 3), (9, 2)]);
        // Width 1 when there are more buckets than days.
        assert_eq!(histogram(&[0, 2, 2], 10), vec![(0, 1), (1, 0), (2, 2)]);
        assert_eq!(histogram(&v, 1), vec![(0, 10)]);
        // 0..=99 over 10 buckets: ten buckets of ten.
        let v: Vec<u32> = (0..100).collect();
        let h = histogram(&v, 10);
        assert_eq!(h.len(), 10);
        assert!(
            h.iter()
                .enumerate()
                .all(|(i, &(s, c))| s == 10 * i as u32 && c == 10)
        );
    }

    #[test]
    fn histogram_keeps_empty_middle_buckets() {
        assert_eq!(
            histogram(&[1, 1, 50], 5),
            vec![(0, 2), (11, 0), (22, 0), (33, 0), (44, 1)]
        );
    }

    #[test]
    fn histogram_edge_cases() {
        assert!(histogram(&[], 10).is_empty());
        assert!(histogram(&[1, 2, 3], 0).is_empty());
        assert_eq!(histogram(&[0, 0, 0], 10), vec![(0, 3)]);
        assert_eq!(histogram(&[u32::MAX, 0], 1), vec![(0, 2)]);
        let h = histogram(&[u32::MAX, 0, 5], 4);
        assert_eq!(h.len(), 4);
        assert_eq!(h.iter().map(|b| b.1).sum::<usize>(), 3);
        assert_eq!(h.last().map(|b| b.1), Some(1));
    }

    #[test]
    fn histogram_is_input_order_independent() {
        let a = vec![5, 1, 9, 9, 3, 14, 0];
        let mut b = a.clone();
        b.reverse();
        assert_eq!(histogram(&a, 4), histogram(&b, 4));
    }

    #[test]
    fn figure_histogram_matches_free_function() {
        let durations: Vec<u32> = (1..=37).map(|x| x * 3 % 41).collect();
        let rows = cases("I-130", "BOS", durations.iter().map(|&x| i64::from(x)));
        let figs = compute(&rows, today());
        let f = only(&figs);
        assert_eq!(f.histogram, histogram(&durations, HISTOGRAM_BUCKETS));
        assert!(f.histogram.len() <= HISTOGRAM_BUCKETS);
        assert_eq!(f.bucket_days, f.histogram[1].0 - f.histogram[0].0);
    }

    // ---- properties -------------------------------------------------------

    fn arb_row() -> impl Strategy<Value = Decided> {
        (
            prop::sample::select(vec!["I-130", "I-485", "N-400"]),
            prop::sample::select(vec!["BOS", "NYC"]),
            -400i64..400,
            -30i64..250,
        )
            .prop_map(|(form, office, duration, days_ago)| case(form, office, duration, days_ago))
    }

    proptest! {
        #[test]
        fn prop_compute_invariants(rows in prop::collection::vec(arb_row(), 0..120)) {
            let figs = compute(&rows, today());
            for pair in figs.windows(2) {
                prop_assert!((&pair[0].form, &pair[0].office) < (&pair[1].form, &pair[1].office));
            }
            for f in &figs {
                prop_assert!(f.cases >= MIN_CASES);
                prop_assert!(f.median_days <= f.p80_days);
                prop_assert!(f.p80_days <= f.max_days);
                prop_assert_eq!(f.histogram.iter().map(|b| b.1).sum::<usize>(), f.cases);
                prop_assert_eq!(f.inquiry_date, inquiry_date(today(), f.p80_days));
                let svg = svg_chart(f, "p", &labels());
                prop_assert_eq!(
                    svg.matches("<rect").count(),
                    f.histogram.iter().filter(|b| b.1 > 0).count()
                );
            }
        }

        #[test]
        fn prop_compute_never_panics_on_any_dates(
            rows in prop::collection::vec(
                (any::<i32>(), any::<i32>(), "[a-c]{0,2}", any::<i32>()),
                0..40,
            ),
            t in any::<i32>(),
        ) {
            let day = |n: i32| NaiveDate::from_num_days_from_ce_opt(n).unwrap_or(NaiveDate::MIN);
            let rows: Vec<Decided> = rows
                .into_iter()
                .map(|(r, dd, form, office)| Decided {
                    form,
                    office: (office % 3).to_string(),
                    received: day(r),
                    decided: day(dd),
                })
                .collect();
            let today = day(t);
            for f in compute(&rows, today) {
                prop_assert!(f.median_days <= f.p80_days && f.p80_days <= f.max_days);
                let _ = case_timing(today, Some(&f), today);
                let _ = svg_chart(&f, "x", &ChartLabels::default());
            }
        }

        #[test]
        fn prop_percentile_is_nearest_rank(
            mut v in prop::collection::vec(0u32..50, 1..60),
            p in 0.0f64..=100.0,
        ) {
            let n = v.len();
            let got = percentile_days(&mut v, p);
            prop_assert!(got.is_some());
            let x = got.unwrap_or_default();
            let at_most = |y: u32| v.iter().filter(|&&z| z <= y).count() as f64;
            // At least p% are ≤ x ...
            prop_assert!(at_most(x) >= p / 100.0 * n as f64 - 1e-9);
            // ... and x is the smallest observed value with that property.
            for &y in v.iter().filter(|&&y| y < x) {
                prop_assert!(at_most(y) < p / 100.0 * n as f64);
            }
        }

        #[test]
        fn prop_histogram_conserves_counts(
            v in prop::collection::vec(any::<u32>(), 0..200),
            buckets in 0usize..30,
        ) {
            let h = histogram(&v, buckets);
            prop_assert!(h.len() <= buckets);
            if buckets > 0 {
                prop_assert_eq!(h.iter().map(|b| b.1).sum::<usize>(), v.len());
            }
            for pair in h.windows(2) {
                prop_assert!(pair[0].0 < pair[1].0);
            }
        }

        #[test]
        fn prop_case_timing_matches_definition(
            p80 in 0u32..400,
            offset in -500i64..500,
        ) {
            let f = fig_with(p80);
            let received = today() - chrono::Duration::days(offset);
            let outside = offset > i64::from(p80);
            match case_timing(received, Some(&f), today()) {
                CaseTiming::Outside { since } => {
                    prop_assert!(outside);
                    prop_assert!(received < f.inquiry_date);
                    prop_assert!(since < today());
                }
                CaseTiming::Within { expected_by } => {
                    prop_assert!(!outside);
                    prop_assert!(received >= f.inquiry_date);
                    prop_assert!(expected_by >= today());
                }
                CaseTiming::Unknown => prop_assert!(false, "unexpected Unknown"),
            }
        }
    }
}
