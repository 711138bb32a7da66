//! Tests of date parsing: every accepted format, zones, the plausibility window.

use super::*;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 6, 1, 12, 0, 0).unwrap()
}

fn utc(s: &str) -> String {
    match parse_date(s, 0) {
        Parsed::Date(d) => d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        other => panic!("{s}: {other:?}"),
    }
}

#[test]
fn every_listed_format() {
    let want = "2019-08-22T15:52:00Z";
    for s in [
        "2019-08-22T15:52:00Z",
        "2019-08-22T15:52:00+00:00",
        "2019-08-22T17:52:00+02:00",
        "2019-08-22T11:52:00-0400",
        "2019-08-22T16:52+01",
        "2019-08-22T15:52Z",
        "2019-08-22T15:52",
        "2019-08-22T15:52:00.123456Z",
        "2019-08-22t15:52:00z",
        "2019-08-22 15:52:00",
        "2019-08-22 15:52:00 UTC",
        "2019-08-22 11:52 EDT",
        "2019/08/22 15:52",
        "20190822T155200Z",
        "Thu, 22 Aug 2019 15:52:00 +0000",
        "Thu, 22 Aug 2019 15:52:00 GMT",
        "22 Aug 2019 17:52 +0200",
        "Thu, 22 Aug 2019 10:52:00 CDT",
        "Aug 22, 2019 15:52 UTC",
        "August 22, 2019 11:52 AM EDT",
        "August 22, 2019 3:52 PM GMT",
        "Thursday, August 22nd, 2019 at 3:52 p.m. UTC",
        "Thursday 22nd August 2019 at 4.52pm BST",
        "22 August 2019 17:52 CEST",
        "23 Aug 2019 00:52 JST",
        "23 Aug 2019 00:52 KST",
        "22 Aug 2019 21:22 IST",
        "Aug 22, 2019 10:52 EST",
        "Aug 22, 2019 08:52 PDT",
        "Aug 22, 2019 07:52 PST",
        "Aug 22, 2019 09:52 CST",
        "Aug 22, 2019 16:52 CET",
        "Aug 22, 2019 17:52 GMT+2",
        "Aug 22, 2019 21:22 UTC+05:30",
        "Published on Aug 22, 2019 15:52 UTC",
        "1566489120",
        "1566489120000",
        "1566489120.75",
    ] {
        assert_eq!(utc(s), want, "{s}");
    }
    assert_eq!(
        from_epoch(1566489120.0),
        Parsed::Date(Utc.timestamp_opt(1566489120, 0).unwrap())
    );
    assert_eq!(
        from_epoch(1566489120123.0),
        Parsed::Date(Utc.timestamp_opt(1566489120, 0).unwrap())
    );
}

#[test]
fn date_only_is_midnight() {
    for s in [
        "22 August 2019",
        "August 22, 2019",
        "2019-08-22",
        "20190822",
        "Thu, 22 Aug 2019",
        "Aug. 22, 2019",
        "Sept 22, 2019",
    ] {
        assert!(utc(s).ends_with("T00:00:00Z"), "{s}");
    }
    assert_eq!(utc("Sept 22, 2019"), "2019-09-22T00:00:00Z");
}

#[test]
fn default_offset_applies_only_without_zone() {
    let d =
        |s| parse_date_text(s, 120).map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    assert_eq!(
        d("2019-08-22 15:52:00").as_deref(),
        Some("2019-08-22T13:52:00Z")
    );
    assert_eq!(d("22 August 2019").as_deref(), Some("2019-08-21T22:00:00Z"));
    assert_eq!(
        d("2019-08-22T15:52:00Z").as_deref(),
        Some("2019-08-22T15:52:00Z")
    );
    assert_eq!(
        d("Aug 22, 2019 15:52 UTC").as_deref(),
        Some("2019-08-22T15:52:00Z")
    );
}

#[test]
fn twelve_hour_clock_edges() {
    assert_eq!(utc("Aug 22, 2019 12:05 AM UTC"), "2019-08-22T00:05:00Z");
    assert_eq!(utc("Aug 22, 2019 12:05 PM UTC"), "2019-08-22T12:05:00Z");
    assert_eq!(utc("Aug 22, 2019 3 PM UTC"), "2019-08-22T15:00:00Z");
}

#[test]
fn rejects_garbage() {
    for s in [
        "yesterday",
        "2019-13-01",
        "2019-02-30",
        "2019-08-22T25:00",
        "Aug 32, 2019",
        "22/08/2019",
        "08/22/2019",
        "Aug 22, 2019 15:52 XYZ",
        "2019-08-22 nonsense",
        "August 2019",
        "13:00 PM Aug 22 2019",
        "Aug 22, 2019 15:52 +99:00",
        "NaN",
        "-",
        "22 août 2019",
    ] {
        assert_eq!(parse_date(s, 0), Parsed::Unparseable, "{s}");
    }
}

#[test]
fn plausibility_window() {
    let text = |s: &str| Some(RawDate::Text(s.into()));
    let read = |r: Option<RawDate>| read_date(r.as_ref(), 0, now());
    assert_eq!(read(None), DateOutcome::Absent);
    assert_eq!(read(text("  ")), DateOutcome::Absent);
    assert!(matches!(
        read(text("1990-01-01T00:00:00Z")),
        DateOutcome::Valid(_)
    ));
    assert!(matches!(
        read(text("2024-06-02T11:00:00Z")),
        DateOutcome::Valid(_)
    ));
    let implausible = DateOutcome::Problem(NormalizeWarning::ImplausibleDate);
    assert_eq!(read(text("1989-12-31T23:59:59Z")), implausible);
    assert_eq!(read(text("2024-06-02T12:00:01Z")), implausible);
    assert_eq!(read(Some(RawDate::Epoch(0.0))), implausible);
    assert_eq!(read(Some(RawDate::Epoch(-5.0))), implausible);
    assert_eq!(read(Some(RawDate::Epoch(1e300))), implausible);
    assert_eq!(read(text("99999999999999999999")), implausible);
    assert_eq!(
        read(Some(RawDate::Epoch(f64::NAN))),
        DateOutcome::Problem(NormalizeWarning::UnparseableDate)
    );
    assert_eq!(
        read(text("soon")),
        DateOutcome::Problem(NormalizeWarning::UnparseableDate)
    );
}

use proptest::prelude::*;

proptest! {
    #[test]
    fn never_panics(s in "\\PC{0,60}", n in proptest::num::f64::ANY, off in -2000i32..2000) {
        let _ = parse_date(&s, off);
        let _ = from_epoch(n);
    }

    #[test]
    fn output_round_trips(secs in 631_152_000i64..4_000_000_000i64) {
        let d = DateTime::from_timestamp(secs, 0).unwrap();
        prop_assert_eq!(parse_date_text(&d.to_rfc3339(), 0), Some(d));
    }
}
