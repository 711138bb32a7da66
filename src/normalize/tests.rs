//! Tests of the whole normalize stage: field rules, hostile input, and the properties
//! (idempotence, no panic, no markup or control characters in any output text).

use chrono::{SecondsFormat, TimeZone};
use proptest::prelude::*;

use super::*;
use crate::model::{InputFormat, NormalizeWarning, RawDate};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 6, 1, 12, 0, 0).unwrap()
}

fn norm(raw: RawArticle) -> Result<Article, NormalizeError> {
    normalize(raw, &NormalizeOptions::default(), now())
}

fn json(title: &str, body: &str) -> RawArticle {
    RawArticle::new(InputFormat::Json, title, body)
}

fn rfc3339(d: Option<DateTime<Utc>>) -> Option<String> {
    d.map(|d| d.to_rfc3339_opts(SecondsFormat::Secs, true))
}

#[test]
fn seed_layout_article() {
    let mut raw = RawArticle::new(
        InputFormat::Text,
        "Harbour city opens  new ferry line",
        "• Harbour city opens new ferry line\n\nThe harbour authority opened a ferry line on Monday.\n\nOfficials said the line\nwould run twice a day.",
    );
    raw.url = Some("https://News.Example.co.uk/a/../ferry?utm_source=x#top".into());
    raw.summary = Some("The harbour authority opened a ferry line on Monday.".into());
    raw.published = Some(RawDate::Text("Aug 22, 2019 15:52 UTC".into()));
    raw.modified = Some(RawDate::Text("2021-04-13T02:52:40+00:00".into()));
    let a = norm(raw).unwrap();
    assert_eq!(a.title, "Harbour city opens new ferry line");
    assert_eq!(a.url.as_deref(), Some("https://news.example.co.uk/ferry"));
    assert_eq!(a.host.as_deref(), Some("news.example.co.uk"));
    assert_eq!(a.domain.as_deref(), Some("example.co.uk"));
    assert_eq!(
        a.body,
        "The harbour authority opened a ferry line on Monday.\n\nOfficials said the line would run twice a day."
    );
    assert_eq!(
        rfc3339(a.published_at).as_deref(),
        Some("2019-08-22T15:52:00Z")
    );
    assert_eq!(
        rfc3339(a.modified_at).as_deref(),
        Some("2021-04-13T02:52:40Z")
    );
    assert!(a.warnings.is_empty());
    assert_eq!(a.id, article_id(a.url.as_deref(), ""));
}

#[test]
fn error_codes_are_the_three_dead_letter_reasons() {
    assert_eq!(
        norm(json(" \u{200b} <b></b> ", "Body")).unwrap_err().code(),
        "missing_title"
    );
    assert_eq!(
        norm(json("T", "<script>x</script>\n\n  "))
            .unwrap_err()
            .code(),
        "missing_body"
    );
    for bad in [
        "javascript:alert(1)",
        "file:///etc/passwd",
        "data:text/html,x",
        "/relative",
        "http://",
    ] {
        let mut raw = json("T", "Body");
        raw.url = Some(bad.into());
        assert_eq!(norm(raw).unwrap_err().code(), "invalid_url", "{bad}");
    }
    // No URL at all is fine: the id comes from the content.
    let a = norm(json("T", "Body text")).unwrap();
    assert_eq!(a.url, None);
    assert_eq!(a.id, article_id(None, "Body text"));
    assert_ne!(a.id, norm(json("T", "Other text")).unwrap().id);
    // A blank URL counts as none.
    let mut raw = json("T", "Body text");
    raw.url = Some("  ".into());
    assert_eq!(norm(raw).unwrap().url, None);
}

#[test]
fn userinfo_is_dropped_from_url_and_id() {
    let mut raw = json("T", "Body");
    raw.url = Some("https://editor:hunter2@example.com/story".into());
    let a = norm(raw).unwrap();
    assert_eq!(a.url.as_deref(), Some("https://example.com/story"));
    assert_eq!(a.id, article_id(Some("https://example.com/story"), ""));
}

#[test]
fn host_and_domain_from_source_when_no_url() {
    let mut raw = json("Markets rally | Reuters", "Body");
    raw.source_url = Some("https://www.reuters.com/".into());
    let a = norm(raw).unwrap();
    assert_eq!(a.host.as_deref(), Some("www.reuters.com"));
    assert_eq!(a.domain.as_deref(), Some("reuters.com"));
    assert_eq!(a.title, "Markets rally");
    // The article URL wins over the source URL.
    let mut raw = json("T", "Body");
    raw.url = Some("https://news.bbc.co.uk/x".into());
    raw.source_url = Some("reuters.com".into());
    assert_eq!(norm(raw).unwrap().domain.as_deref(), Some("bbc.co.uk"));
}

#[test]
fn title_suffix_needs_a_matching_source() {
    let mut raw = json("Storm hits coast - BBC News", "Body");
    assert_eq!(
        norm(raw.clone()).unwrap().title,
        "Storm hits coast - BBC News"
    );
    raw.source_name = Some("  BBC   News ".into());
    let a = norm(raw).unwrap();
    assert_eq!(a.title, "Storm hits coast");
    assert_eq!(a.source_name.as_deref(), Some("BBC News"));
}

#[test]
fn body_caption_matching_full_title_is_dropped() {
    let mut raw = json(
        "Storm hits coast - BBC News",
        "Storm hits coast - BBC News\n\nWind reached 100 km/h.",
    );
    raw.source_name = Some("BBC News".into());
    assert_eq!(norm(raw).unwrap().body, "Wind reached 100 km/h.");
    let raw = json(
        "Storm hits coast",
        "<ul><li>Storm hits coast</li></ul><p>Wind reached 100 km/h.</p>",
    );
    assert_eq!(norm(raw).unwrap().body, "Wind reached 100 km/h.");
}

#[test]
fn html_body_to_paragraphs() {
    let raw = json(
        "<h1>Title &amp; more</h1>",
        "<div class=x><p>First&nbsp;para <a href='/x'>link</a>.</p>\n<figure><img src=a><figcaption>Photo: Someone</figcaption></figure>\
         <p>Second<br>line</p><script>track()</script><style>.x{}</style><!-- c --><h2>Heading</h2><ul><li>one</li><li>two</li></ul></div>",
    );
    let a = norm(raw).unwrap();
    assert_eq!(a.title, "Title & more");
    assert_eq!(
        a.body,
        "First para link.\n\nSecond\n\nline\n\nHeading\n\none\n\ntwo"
    );
}

#[test]
fn text_fields_are_cleaned() {
    let mut raw = json("A\u{202e}B\u{2066}C\0D", "x\u{202d}y");
    raw.summary = Some("  <p>Sum</p><p>mary</p>  ".into());
    raw.authors = vec!["By Jane Doe and John Roe".into(), "jane doe".into()];
    raw.tags = vec![
        " Politics ".into(),
        "politics".into(),
        "".into(),
        "<b>Asia</b>".into(),
    ];
    raw.language = Some("en-GB".into());
    raw.upstream_id = Some("  42\n".into());
    let a = norm(raw).unwrap();
    assert_eq!(a.title, "ABCD");
    assert_eq!(a.body, "xy");
    assert_eq!(a.summary.as_deref(), Some("Sum mary"));
    assert_eq!(a.authors, ["Jane Doe", "John Roe"]);
    assert_eq!(a.tags, ["Politics", "Asia"]);
    assert_eq!(a.language_hint.as_deref(), Some("en"));
    assert_eq!(a.upstream_id.as_deref(), Some("42"));
    let mut raw = json("T", "B");
    raw.language = Some("Klingon".into());
    raw.summary = Some(" ".into());
    let a = norm(raw).unwrap();
    assert_eq!((a.language_hint, a.summary), (None, None));
}

#[test]
fn dates_with_warnings() {
    let mut raw = json("T", "B");
    raw.published = Some(RawDate::Text("1970-01-01T00:00:00Z".into()));
    raw.modified = Some(RawDate::Text("next Tuesday".into()));
    let a = norm(raw).unwrap();
    assert_eq!((a.published_at, a.modified_at), (None, None));
    assert_eq!(
        a.warnings,
        [
            NormalizeWarning::ImplausibleDate,
            NormalizeWarning::UnparseableDate
        ]
    );
    let mut raw = json("T", "B");
    raw.published = Some(RawDate::Epoch(1_566_489_120_000.0));
    raw.modified = Some(RawDate::Text("2024-06-03T00:00:00Z".into()));
    let a = norm(raw).unwrap();
    assert_eq!(
        rfc3339(a.published_at).as_deref(),
        Some("2019-08-22T15:52:00Z")
    );
    assert_eq!(a.modified_at, None);
    assert_eq!(a.warnings, [NormalizeWarning::ImplausibleDate]);
}

#[test]
fn default_offset_option() {
    let mut raw = json("T", "B");
    raw.published = Some(RawDate::Text("2019-08-22 15:52".into()));
    let opts = NormalizeOptions {
        default_utc_offset_minutes: -240,
    };
    let a = normalize(raw, &opts, now()).unwrap();
    assert_eq!(
        rfc3339(a.published_at).as_deref(),
        Some("2019-08-22T19:52:00Z")
    );
}

#[test]
fn hostile_inputs_are_handled() {
    let deep = format!(
        "{}Deep text.{}",
        "<div><b>".repeat(10_000),
        "</b></div>".repeat(10_000)
    );
    assert_eq!(norm(json("T", &deep)).unwrap().body, "Deep text.");
    let unclosed = format!("{}Deep text.", "<span>".repeat(10_000));
    assert_eq!(norm(json("T", &unclosed)).unwrap().body, "Deep text.");
    let ws = " \n\t\u{a0}\r\n".repeat(1024 * 1024 / 8);
    assert_eq!(norm(json("T", &ws)).unwrap_err().code(), "missing_body");
    let line = "word ".repeat(1024 * 1024 / 5);
    let a = norm(json(&line, &format!("{line}\n\nEnd."))).unwrap();
    assert_eq!(a.title.len(), line.trim_end().len());
    assert_eq!(
        a.body, "End.",
        "a body paragraph repeating the title is dropped"
    );
    let a = norm(json("T", &line)).unwrap();
    assert_eq!(a.body.len(), line.trim_end().len());
    let nul = "\0".repeat(1000) + "ok";
    assert_eq!(norm(json(&nul, "x\0y")).unwrap().title, "ok");
    assert_eq!(norm(json("T", &nul)).unwrap().body, "ok");
}

fn feed_back(a: &Article, raw: &RawArticle) -> RawArticle {
    let date = |d: Option<DateTime<Utc>>| d.map(|d| RawDate::Text(d.to_rfc3339()));
    RawArticle {
        format: a.format,
        title: a.title.clone(),
        url: a.url.clone(),
        summary: a.summary.clone(),
        body: a.body.clone(),
        published: date(a.published_at),
        modified: date(a.modified_at),
        authors: a.authors.clone(),
        source_name: a.source_name.clone(),
        source_url: raw.source_url.clone(),
        language: a.language_hint.clone(),
        tags: a.tags.clone(),
        upstream_id: a.upstream_id.clone(),
    }
}

/// Every text an `Article` shows to people.
fn texts(a: &Article) -> Vec<&str> {
    let mut v = vec![a.title.as_str(), a.body.as_str()];
    v.extend(a.summary.as_deref());
    v.extend(a.source_name.as_deref());
    v.extend(a.authors.iter().map(String::as_str));
    v.extend(a.tags.iter().map(String::as_str));
    v
}

fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z ]{1,12}",
        2 => "\\PC{1,8}",
        1 => "\\PC{1,8}".prop_map(|s| s.to_uppercase()),
        3 => prop::sample::select(vec![
            "<p>", "</p>", "<br>", "<div>", "</div>", "<li>", "<script>", "</script>", "<style>",
            "<figure>", "</figure>", "<!--", "-->", "<b", ">", "<", "&", "&amp;", "&amp;lt;",
            "&lt;p&gt;", "&#60;i&#62;", "&copy", "&#x202E;", "&#0;", "&nbsp;", "\u{200b}",
            "\u{202e}", "\u{2066}", "\u{feff}", "\u{ad}", "\0", "\u{7}", "\u{9c}", "\r", "\n",
            "\n\n", "\t", "\u{a0}", "\u{2028}", "\u{2029}", "•", "* ", " - ", " | ", "©",
            "Share this article", "Read more:", "Advertisement", "By ", " and ", ",",
            "e\u{301}", "\u{301}", "’", "Title", "Example News",
        ])
        .prop_map(String::from),
    ]
}

fn text_strategy(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(fragment(), 0..max).prop_map(|v| v.concat())
}

fn raw_strategy() -> impl Strategy<Value = RawArticle> {
    (
        text_strategy(8),
        text_strategy(40),
        prop::option::of(text_strategy(6)),
        prop::option::of(prop::sample::select(vec![
            "https://www.example.com/a?utm_source=x&b=1",
            "http://news.example.co.uk/x/../y#f",
            "//example.org/p",
            "javascript:alert(1)",
        ])),
        prop::collection::vec(text_strategy(5), 0..3),
        prop::option::of(prop::sample::select(vec![
            "Example News",
            "example.com",
            " ",
        ])),
        prop::option::of(prop::sample::select(vec![
            "Aug 22, 2019 15:52 UTC",
            "1566489120",
            "garbage",
            "1970-01-01",
        ])),
        prop::collection::vec(text_strategy(3), 0..3),
    )
        .prop_map(|(title, body, summary, url, authors, source, date, tags)| {
            let mut raw = RawArticle::new(InputFormat::Json, title, body);
            raw.summary = summary;
            raw.url = url.map(String::from);
            raw.authors = authors;
            raw.source_name = source.map(String::from);
            raw.source_url = source.map(String::from);
            raw.published = date.map(|d| RawDate::Text(d.into()));
            raw.tags = tags;
            raw.language = Some("en-US".into());
            raw
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn normalizing_twice_changes_nothing(raw in raw_strategy()) {
        if let Ok(once) = norm(raw.clone()) {
            let twice = norm(feed_back(&once, &raw));
            prop_assert!(twice.is_ok(), "{:?} → {:?}", once, twice);
            let twice = twice.unwrap();
            // The URL as given and the warnings describe the input, not the article.
            prop_assert_eq!(&twice.warnings, &Vec::<NormalizeWarning>::new());
            let strip = |a: &Article| Article { original_url: None, warnings: Vec::new(), ..a.clone() };
            prop_assert_eq!(strip(&twice), strip(&once));
        }
    }

    #[test]
    fn output_text_has_no_markup_or_control_characters(raw in raw_strategy()) {
        if let Ok(a) = norm(raw) {
            for t in texts(&a) {
                // Whatever still looks like a reference (`&unknown;`) is text the parser keeps.
                prop_assert!(!html::has_markup(t) || html::to_text(t) == t, "markup in {:?}", t);
                let tag_like = |r: &str| {
                    let r = r.strip_prefix('/').unwrap_or(r);
                    r.starts_with(|c: char| c.is_ascii_alphabetic() || c == '!' || c == '?')
                };
                prop_assert!(!t.split('<').skip(1).any(tag_like), "tag in {:?}", t);
                let body_breaks_ok = t.replace("\n\n", "");
                prop_assert!(!body_breaks_ok.chars().any(|c| c.is_control()), "control in {:?}", t);
                prop_assert!(!t.chars().any(|c| matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200b}' | '\u{feff}' | '\u{ad}')), "{:?}", t);
                prop_assert_eq!(t.trim(), t);
                prop_assert!(!t.contains("  ") && !t.contains("\n\n\n"), "{:?}", t);
            }
            prop_assert!(!a.title.contains('\n'));
            prop_assert!(a.body.split("\n\n").all(|p| !p.is_empty() && !p.contains('\n')));
            prop_assert!(a.authors.iter().chain(&a.tags).all(|s| !s.is_empty()));
        }
    }

    #[test]
    fn never_panics_on_arbitrary_strings(
        title in "\\PC{0,60}", body in "(\\PC|\n){0,300}", url in "\\PC{0,40}",
        date in "\\PC{0,30}", author in "\\PC{0,30}", lang in "\\PC{0,8}",
    ) {
        let mut raw = RawArticle::new(InputFormat::Text, title, body);
        raw.url = Some(url);
        raw.published = Some(RawDate::Text(date));
        raw.authors = vec![author];
        raw.language = Some(lang);
        let _ = norm(raw);
    }

    #[test]
    fn fold_is_stable(s in "\\PC{0,80}") {
        let f = fold(&s);
        prop_assert_eq!(fold(&f), f.clone());
        prop_assert!(!f.starts_with(' ') && !f.ends_with(' ') && !f.contains("  "));
    }
}
