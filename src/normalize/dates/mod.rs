//! Publication and modification dates: every format producers send, parsed to UTC.
//!
//! Accepted: RFC 3339 / ISO 8601 (`2019-08-22T15:52:00Z`, with or without offset, seconds or
//! fraction, `T` or space, basic `20190822T155200Z`, `2019/08/22`); RFC 2822
//! (`Thu, 22 Aug 2019 15:52:00 +0000`); textual dates in either order with optional weekday,
//! ordinal, 12-hour clock and zone (`Aug 22, 2019 15:52 UTC`, `22 August 2019`,
//! `August 22, 2019 3:52 PM EDT`, `Thursday 22nd August 2019 at 3.52pm BST`); epoch seconds
//! or milliseconds (numbers or digit strings, told apart by magnitude); an 8-digit string as
//! `YYYYMMDD`. Zones: `Z`, `±HH:MM`, `±HHMM`, `±HH`, `GMT+2`, and the abbreviations in
//! [`words::zone_offset_minutes`]. No zone: the configured default offset. No time: midnight.
//! Results are truncated to whole seconds.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};

mod words;

use self::words::{is_filler, is_weekday, meridiem_of, month_number, zone_offset_minutes};
use super::text::plain;
use crate::model::{NormalizeWarning, RawDate};

/// Earliest plausible publication date of an article we ingest.
const EARLIEST_YEAR: i32 = 1990;

/// Outcome of reading one date field.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum DateOutcome {
    Absent,
    Valid(DateTime<Utc>),
    Problem(NormalizeWarning),
}

/// Parses and checks one date: before 1990 or more than a day after `now` is implausible.
pub(crate) fn read_date(
    raw: Option<&RawDate>,
    default_offset_minutes: i32,
    now: DateTime<Utc>,
) -> DateOutcome {
    let parsed = match raw {
        None => return DateOutcome::Absent,
        Some(RawDate::Epoch(n)) => from_epoch(*n),
        Some(RawDate::Text(t)) => {
            // Odd spaces and invisible characters from HTML sources do not hide a date.
            let t = plain(t);
            if t.is_empty() {
                return DateOutcome::Absent;
            }
            parse_date(&t, default_offset_minutes)
        }
    };
    match parsed {
        Parsed::Date(d) => {
            let earliest = Utc
                .with_ymd_and_hms(EARLIEST_YEAR, 1, 1, 0, 0, 0)
                .single()
                .expect("valid constant date");
            if d < earliest || d > now + Duration::days(1) {
                DateOutcome::Problem(NormalizeWarning::ImplausibleDate)
            } else {
                DateOutcome::Valid(d)
            }
        }
        Parsed::OutOfRange => DateOutcome::Problem(NormalizeWarning::ImplausibleDate),
        Parsed::Unparseable => DateOutcome::Problem(NormalizeWarning::UnparseableDate),
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Parsed {
    Date(DateTime<Utc>),
    /// Well-formed but not representable (epoch far out of range).
    OutOfRange,
    Unparseable,
}

/// Seconds below this magnitude, milliseconds from here on (1e11 s is the year 5138;
/// 1e11 ms is 1973, before any plausible date anyway).
const MILLIS_THRESHOLD: f64 = 1e11;

fn from_epoch(n: f64) -> Parsed {
    if !n.is_finite() {
        return Parsed::Unparseable;
    }
    let secs = if n.abs() >= MILLIS_THRESHOLD {
        n / 1000.0
    } else {
        n
    };
    if secs.abs() > 1e13 {
        return Parsed::OutOfRange;
    }
    match DateTime::from_timestamp(secs.floor() as i64, 0) {
        Some(d) => Parsed::Date(d),
        None => Parsed::OutOfRange,
    }
}

/// Parses a date written as text. `default_offset_minutes` applies when no zone is given.
#[cfg(test)]
fn parse_date_text(s: &str, default_offset_minutes: i32) -> Option<DateTime<Utc>> {
    match parse_date(s, default_offset_minutes) {
        Parsed::Date(d) => Some(d),
        _ => None,
    }
}

fn parse_date(s: &str, default_offset_minutes: i32) -> Parsed {
    let s = s.trim();
    if s.len() > 100 {
        return Parsed::Unparseable;
    }
    let digits = s.trim_start_matches(['-', '+']);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
            if let Some(d) = parse_compact_day(s, default_offset_minutes) {
                return Parsed::Date(d);
            }
        }
        return match s.parse::<f64>() {
            Ok(n) => from_epoch(n),
            Err(_) => Parsed::Unparseable,
        };
    }
    let fields = if s.as_bytes().first().is_some_and(u8::is_ascii_digit) && iso_like(s) {
        parse_iso(s)
    } else {
        parse_textual(s)
    };
    fields
        .and_then(|f| f.to_utc(default_offset_minutes))
        .map_or(Parsed::Unparseable, Parsed::Date)
}

/// Starts with `YYYY-`, `YYYY/` or eight digits then `T`.
fn iso_like(s: &str) -> bool {
    let b = s.as_bytes();
    (b.len() >= 5 && b[..4].iter().all(u8::is_ascii_digit) && matches!(b[4], b'-' | b'/'))
        || (b.len() >= 9 && b[..8].iter().all(u8::is_ascii_digit) && matches!(b[8], b'T' | b't'))
}

fn parse_compact_day(s: &str, default_offset_minutes: i32) -> Option<DateTime<Utc>> {
    let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<u32>().ok();
    let year = n(0..4)? as i32;
    if !(EARLIEST_YEAR..=2100).contains(&year) {
        return None;
    }
    Fields {
        year,
        month: n(4..6)?,
        day: n(6..8)?,
        ..Fields::default()
    }
    .to_utc(default_offset_minutes)
}

/// Date and time parts found in the text, before zone resolution.
#[derive(Debug, Default, Clone, Copy)]
struct Fields {
    year: i32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    /// Minutes east of UTC, when the text gave a zone.
    offset: Option<i32>,
}

impl Fields {
    fn to_utc(self, default_offset_minutes: i32) -> Option<DateTime<Utc>> {
        let date = NaiveDate::from_ymd_opt(self.year, self.month, self.day)?;
        // A leap second (":60") is read as the second before it.
        let time = date.and_hms_opt(self.hour, self.minute, self.second.min(59))?;
        let offset_min = self.offset.unwrap_or(default_offset_minutes);
        let offset = FixedOffset::east_opt(offset_min.checked_mul(60)?)
            .or_else(|| FixedOffset::east_opt(0))?;
        local_to_utc(time, offset)
    }
}

fn local_to_utc(time: NaiveDateTime, offset: FixedOffset) -> Option<DateTime<Utc>> {
    offset
        .from_local_datetime(&time)
        .single()
        .map(|d| d.with_timezone(&Utc))
}

/// A byte cursor over ASCII date text.
struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    /// Exactly `n` digits.
    fn digits(&mut self, n: usize) -> Option<u32> {
        let end = self.i.checked_add(n)?;
        let part = self.b.get(self.i..end)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.i = end;
        Some(part.iter().fold(0, |v, d| v * 10 + u32::from(d - b'0')))
    }

    fn skip_spaces(&mut self) {
        while self.peek() == Some(b' ') {
            self.i += 1;
        }
    }

    fn rest(&self) -> &[u8] {
        &self.b[self.i..]
    }
}

/// `YYYY-MM-DD[(T| )HH:MM[:SS[.frac]]][ ][zone]`, also `/` separators and the basic form.
fn parse_iso(s: &str) -> Option<Fields> {
    let mut c = Cursor {
        b: s.as_bytes(),
        i: 0,
    };
    let mut f = Fields {
        year: c.digits(4)? as i32,
        ..Fields::default()
    };
    let basic = !matches!(c.peek(), Some(b'-' | b'/'));
    if basic {
        f.month = c.digits(2)?;
        f.day = c.digits(2)?;
    } else {
        let sep = c.peek()?;
        c.i += 1;
        f.month = c.digits(2).or_else(|| c.digits(1))?;
        if !c.eat(sep) {
            return None;
        }
        f.day = c.digits(2).or_else(|| c.digits(1))?;
    }
    // Time, introduced by T or spaces.
    let before_time = c.i;
    let t = c.eat(b'T') || c.eat(b't');
    if !t {
        c.skip_spaces();
    }
    if c.peek().is_some_and(|b| b.is_ascii_digit()) {
        f.hour = c.digits(2)?;
        let colon = c.eat(b':');
        f.minute = c.digits(2)?;
        if (!colon || c.eat(b':')) && c.peek().is_some_and(|b| b.is_ascii_digit()) {
            f.second = c.digits(2)?;
            if c.eat(b'.') || c.eat(b',') {
                while c.peek().is_some_and(|b| b.is_ascii_digit()) {
                    c.i += 1;
                }
            }
        }
    } else if t {
        return None;
    } else {
        c.i = before_time;
    }
    c.skip_spaces();
    if c.rest().is_empty() {
        return Some(f);
    }
    f.offset = Some(parse_zone(std::str::from_utf8(c.rest()).ok()?)?);
    Some(f)
}

/// A whole zone designator: `Z`, `±HH[:MM]`, `±HHMM`, an abbreviation, or `GMT±H[:MM]`.
fn parse_zone(z: &str) -> Option<i32> {
    let z = z.trim();
    if let Some(sign_pos) = z.find(['+', '-']) {
        let (name, off) = z.split_at(sign_pos);
        let base = if name.is_empty() {
            0
        } else {
            match name.to_ascii_uppercase().as_str() {
                "GMT" | "UTC" | "UT" => 0,
                _ => return None,
            }
        };
        return parse_numeric_offset(off).map(|o| base + o);
    }
    zone_offset_minutes(z)
}

/// `+HH:MM`, `+HHMM`, `+HH`, `+H` (sign included). At most 18 hours.
fn parse_numeric_offset(s: &str) -> Option<i32> {
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let (h, m) = match rest.len() {
        1 | 2 => (rest.parse::<i32>().ok()?, 0),
        4 if !rest.contains(':') => (rest[..2].parse().ok()?, rest[2..].parse().ok()?),
        4 | 5 => {
            let (h, m) = rest.split_once(':')?;
            (h.parse().ok()?, m.parse().ok()?)
        }
        _ => return None,
    };
    if !rest.bytes().all(|b| b.is_ascii_digit() || b == b':') || h > 18 || m > 59 {
        return None;
    }
    Some(sign * (h * 60 + m))
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Tok<'a> {
    Num(&'a str),
    Word(&'a str),
    Sym(u8),
}

/// Splits into numbers, words (dots inside words such as `p.m.` kept), and symbols.
fn tokens(s: &str) -> Option<Vec<Tok<'_>>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(12);
    let mut i = 0;
    while i < b.len() {
        let start = i;
        match b[i] {
            b' ' | b'\t' => i += 1,
            d if d.is_ascii_digit() => {
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                out.push(Tok::Num(&s[start..i]));
            }
            a if a.is_ascii_alphabetic() => {
                while i < b.len()
                    && (b[i].is_ascii_alphabetic()
                        || (b[i] == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_alphabetic)))
                {
                    i += 1;
                }
                out.push(Tok::Word(&s[start..i]));
            }
            sym if sym.is_ascii_punctuation() => {
                out.push(Tok::Sym(sym));
                i += 1;
            }
            // Non-ASCII (month names in other languages, odd spaces): not ours.
            _ => return None,
        }
        if out.len() > 40 {
            return None;
        }
    }
    Some(out)
}

/// Textual dates: RFC 2822 and the many "Month day, year time zone" variants.
fn parse_textual(s: &str) -> Option<Fields> {
    let toks = tokens(s)?;
    let mut f = Fields::default();
    let (mut year, mut month, mut day) = (None, None, None);
    let mut time: Option<(u32, u32, u32)> = None;
    let mut meridiem: Option<bool> = None; // Some(true) = pm
    let mut i = 0;
    while i < toks.len() {
        match toks[i] {
            Tok::Num(n)
                if matches!(toks.get(i + 1), Some(Tok::Sym(b':')))
                    || (matches!(toks.get(i + 1), Some(Tok::Sym(b'.')))
                        && matches!(toks.get(i + 2), Some(Tok::Num(m)) if m.len() == 2)
                        && year.is_some()) =>
            {
                // H:MM[:SS] (or H.MM after the date, as in "3.52pm").
                if time.is_some() || n.len() > 2 {
                    return None;
                }
                let hour: u32 = n.parse().ok()?;
                let Some(Tok::Num(m)) = toks.get(i + 2) else {
                    return None;
                };
                if m.len() != 2 {
                    return None;
                }
                let minute: u32 = m.parse().ok()?;
                i += 3;
                let mut second = 0;
                if let (Some(Tok::Sym(b':')), Some(Tok::Num(sec))) = (toks.get(i), toks.get(i + 1))
                {
                    if sec.len() != 2 {
                        return None;
                    }
                    second = sec.parse().ok()?;
                    i += 2;
                    // Fractional seconds.
                    if let (Some(Tok::Sym(b'.')), Some(Tok::Num(_))) =
                        (toks.get(i), toks.get(i + 1))
                    {
                        i += 2;
                    }
                }
                time = Some((hour, minute, second));
                continue;
            }
            Tok::Num(n) if n.len() == 4 && year.is_none() => year = Some(n.parse().ok()?),
            Tok::Num(n) if n.len() <= 2 && day.is_none() => day = Some(n.parse().ok()?),
            Tok::Num(n)
                if n.len() <= 2
                    && time.is_none()
                    && year.is_some()
                    && toks
                        .get(i + 1)
                        .is_some_and(|t| matches!(t, Tok::Word(w) if meridiem_of(w).is_some())) =>
            {
                // "3 PM" without minutes.
                time = Some((n.parse().ok()?, 0, 0));
            }
            Tok::Num(_) => return None,
            Tok::Sym(sign @ (b'+' | b'-'))
                if time.is_some() && matches!(toks.get(i + 1), Some(Tok::Num(_))) =>
            {
                let (off, used) = offset_tokens(sign, &toks[i + 1..])?;
                f.offset = Some(f.offset.unwrap_or(0) + off);
                i += 1 + used;
                continue;
            }
            Tok::Sym(b',' | b'.' | b'-' | b'/' | b'(' | b')' | b'|' | b':') => {}
            Tok::Sym(_) => return None,
            Tok::Word(w) => {
                if let Some(pm) = meridiem_of(w) {
                    meridiem = Some(pm);
                } else if let Some(m) = month_number(w).filter(|_| month.is_none()) {
                    month = Some(m);
                } else if let Some(z) = zone_offset_minutes(w).filter(|_| f.offset.is_none()) {
                    f.offset = Some(z);
                } else if !(is_weekday(w) || is_filler(w)) {
                    return None;
                }
            }
        }
        i += 1;
    }
    f.year = year?;
    f.month = month?;
    f.day = day?;
    if let Some((mut h, m, sec)) = time {
        if let Some(pm) = meridiem {
            if !(1..=12).contains(&h) {
                return None;
            }
            h = match (pm, h) {
                (false, 12) => 0,
                (true, 12) => 12,
                (true, h) => h + 12,
                (false, h) => h,
            };
        }
        (f.hour, f.minute, f.second) = (h, m, sec);
    } else if meridiem.is_some() {
        return None;
    }
    Some(f)
}

/// Offset digits after a sign token: `0000`, `05:30`, `2`. Returns minutes and tokens used.
fn offset_tokens(sign: u8, toks: &[Tok<'_>]) -> Option<(i32, usize)> {
    let Some(Tok::Num(h)) = toks.first() else {
        return None;
    };
    let mut text = String::with_capacity(6);
    text.push(sign as char);
    text.push_str(h);
    let mut used = 1;
    if let (Some(Tok::Sym(b':')), Some(Tok::Num(m))) = (toks.get(1), toks.get(2)) {
        text.push(':');
        text.push_str(m);
        used = 3;
    }
    Some((parse_numeric_offset(&text)?, used))
}

#[cfg(test)]
mod tests;
