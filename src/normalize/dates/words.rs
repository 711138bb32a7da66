//! The words of written dates: zone abbreviations, month and weekday names, fillers
//! ("published", "at"), and the 12-hour clock markers.

/// Offsets of the zone abbreviations producers use, in minutes east of UTC. Ambiguous ones
/// take their most common news meaning: CST is US Central, IST is India, BST is British
/// Summer Time.
pub(super) fn zone_offset_minutes(abbrev: &str) -> Option<i32> {
    let hours = |h: i32| Some(h * 60);
    match abbrev.to_ascii_uppercase().as_str() {
        "Z" | "UTC" | "GMT" | "UT" | "WET" => hours(0),
        "BST" | "CET" | "WEST" | "MET" => hours(1),
        "CEST" | "EET" | "MEST" | "SAST" => hours(2),
        "EEST" | "MSK" => hours(3),
        "IST" => Some(5 * 60 + 30),
        "ICT" | "WIB" => hours(7),
        "HKT" | "SGT" | "AWST" | "PHT" => hours(8),
        "JST" | "KST" => hours(9),
        "ACST" => Some(9 * 60 + 30),
        "AEST" => hours(10),
        "AEDT" => hours(11),
        "NZST" => hours(12),
        "NZDT" => hours(13),
        "EDT" => hours(-4),
        "EST" | "CDT" => hours(-5),
        "CST" | "MDT" => hours(-6),
        "MST" | "PDT" => hours(-7),
        "PST" | "AKDT" => hours(-8),
        "AKST" => hours(-9),
        "HST" => hours(-10),
        _ => None,
    }
}

pub(super) fn month_number(word: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let w = word.to_ascii_lowercase();
    if w == "sept" {
        return Some(9);
    }
    MONTHS
        .iter()
        .position(|m| w.len() >= 3 && m.starts_with(w.as_str()))
        .map(|i| i as u32 + 1)
}

pub(super) fn is_weekday(word: &str) -> bool {
    const DAYS: [&str; 7] = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    let w = word.to_ascii_lowercase();
    w.len() >= 3 && DAYS.iter().any(|d| d.starts_with(w.as_str()))
        || matches!(w.as_str(), "tues" | "thur" | "thurs")
}

/// Words that carry no date information in bylines such as "Published on … at …".
pub(super) fn is_filler(word: &str) -> bool {
    matches!(
        word.to_ascii_lowercase().as_str(),
        "at" | "on"
            | "of"
            | "the"
            | "st"
            | "nd"
            | "rd"
            | "th"
            | "published"
            | "updated"
            | "posted"
            | "last"
            | "modified"
    )
}

pub(super) fn meridiem_of(word: &str) -> Option<bool> {
    match word.to_ascii_lowercase().replace('.', "").as_str() {
        "am" => Some(false),
        "pm" => Some(true),
        _ => None,
    }
}
