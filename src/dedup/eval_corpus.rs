//! Deterministic generator of the labelled dedup evaluation corpus: news stories written up
//! by several outlets, and the copies a wire feed produces of them (resends, tracking URLs,
//! syndication with a dateline, trimmed or extended copies, edited paragraphs, typos, new
//! headlines, revisions), in arrival order.
//!
//! Text comes from the templates and word lists in `eval/dedup/`; randomness from a seeded
//! SplitMix64, so a seed always gives the same corpus on every platform.

use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};

use super::eval_text::{kind_facts, titles, Facts, Grammar, Rng, KINDS};
use crate::model::{InputFormat, RawArticle, RawDate};

/// How an item relates to the story it belongs to, and so what dedup should answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum Category {
    /// First write-up of a story.
    Original,
    /// Another outlet's own write-up of the same event (shared quotes and boilerplate).
    OtherWriteUp,
    /// The same outlet's next-day story on the event (shared background and footer).
    FollowUp,
    ExactResend,
    TrackingUrl,
    /// Verbatim under a partner's URL.
    Syndicated,
    /// Verbatim body under a partner's URL with another headline.
    NewHeadline,
    WirePrefix,
    DroppedParagraph,
    AddedParagraph,
    ChangedParagraph,
    TypoEdits,
    /// Dateline, one paragraph rewritten and another headline, under a partner's URL.
    PrefixAndChange,
    /// Same URL, one paragraph rewritten, newer modification time.
    Revision,
}

/// What dedup should answer for an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Expected {
    Unique,
    Url,
    Content,
    Near,
    Revision,
}

impl Category {
    pub(super) const ALL: [Category; 14] = [
        Self::Original,
        Self::OtherWriteUp,
        Self::FollowUp,
        Self::ExactResend,
        Self::TrackingUrl,
        Self::Syndicated,
        Self::NewHeadline,
        Self::WirePrefix,
        Self::DroppedParagraph,
        Self::AddedParagraph,
        Self::ChangedParagraph,
        Self::TypoEdits,
        Self::PrefixAndChange,
        Self::Revision,
    ];
    const VARIANTS: [Category; 11] = [
        Self::ExactResend,
        Self::TrackingUrl,
        Self::Syndicated,
        Self::NewHeadline,
        Self::WirePrefix,
        Self::DroppedParagraph,
        Self::AddedParagraph,
        Self::ChangedParagraph,
        Self::TypoEdits,
        Self::PrefixAndChange,
        Self::Revision,
    ];

    pub(super) fn expected(self) -> Expected {
        match self {
            Self::Original | Self::OtherWriteUp | Self::FollowUp => Expected::Unique,
            Self::ExactResend | Self::TrackingUrl => Expected::Url,
            Self::Syndicated | Self::NewHeadline => Expected::Content,
            Self::Revision => Expected::Revision,
            _ => Expected::Near,
        }
    }

    /// A syndicated copy with at most one changed paragraph: the recall target's scope.
    pub(super) fn is_syndicated_copy(self) -> bool {
        matches!(self.expected(), Expected::Content | Expected::Near)
    }

    pub(super) fn name(self) -> &'static str {
        match self {
            Self::Original => "original",
            Self::OtherWriteUp => "same event, other outlet",
            Self::FollowUp => "follow-up, same outlet",
            Self::ExactResend => "exact resend",
            Self::TrackingUrl => "tracking-parameter url",
            Self::Syndicated => "verbatim, partner url",
            Self::NewHeadline => "new headline, partner url",
            Self::WirePrefix => "wire dateline prefix",
            Self::DroppedParagraph => "dropped paragraph",
            Self::AddedParagraph => "added paragraph",
            Self::ChangedParagraph => "one paragraph rewritten",
            Self::TypoEdits => "typo-level edits",
            Self::PrefixAndChange => "dateline + rewrite + headline",
            Self::Revision => "revision, same url",
        }
    }
}

/// One message of the evaluation stream.
pub(super) struct Item {
    pub raw: RawArticle,
    pub arrival: DateTime<Utc>,
    /// Items of one cluster are copies of one write-up; distinct write-ups never share one.
    pub cluster: usize,
    /// The news event; distinct write-ups of one event share it.
    pub story: usize,
    pub category: Category,
}

#[derive(Clone)]
struct Outlet {
    name: &'static str,
    domain: &'static str,
    footer: &'static str,
}

/// Where and when a write-up was first published.
#[derive(Clone)]
struct Published {
    cluster: usize,
    story: usize,
    url: String,
    at: DateTime<Utc>,
    outlet: usize,
}

/// A written article: headline and paragraphs, before it becomes a message.
#[derive(Clone)]
struct Text {
    title: String,
    paragraphs: Vec<String>,
}

struct Story {
    kind: &'static str,
    facts: Facts,
    dateline: String,
    statement: String,
    background: String,
    start: DateTime<Utc>,
}

struct Generator {
    g: Grammar,
    rng: Rng,
    outlets: Vec<Outlet>,
    items: Vec<Item>,
    clusters: usize,
    stories: usize,
}

/// Generates the stream for `stories` news events, sorted by arrival time.
pub(super) fn generate(stories: usize, seed: u64) -> Vec<Item> {
    let g = Grammar::load();
    let outlets = g
        .lines("outlets")
        .iter()
        .map(|l| {
            let f: Vec<&'static str> = l.split('|').collect();
            Outlet {
                name: f[0],
                domain: f[1],
                footer: f[2],
            }
        })
        .collect();
    let mut gen = Generator {
        g,
        rng: Rng::new(seed),
        outlets,
        items: Vec::new(),
        clusters: 0,
        stories: 0,
    };
    let epoch = Utc
        .with_ymd_and_hms(2025, 3, 3, 6, 0, 0)
        .single()
        .expect("valid");
    // Spread the events over five days, so the whole stream fits the default window.
    let span = Duration::days(5).num_seconds();
    for _ in 0..stories {
        let start = epoch + Duration::seconds(gen.rng.range(0, span));
        gen.story(start);
        gen.stories += 1;
    }
    let mut items = gen.items;
    items.sort_by_key(|i| i.arrival);
    items
}

impl Generator {
    fn story(&mut self, start: DateTime<Utc>) {
        let story = self.new_story(start);
        let home = self.rng.below(self.outlets.len());
        let quiet = self.rng.chance(0.3);
        let background = self.rng.chance(0.5);
        let text = self.write(&story, home, false, true, background);
        let original = self.publish(&story, home, &text, start, Category::Original);
        if quiet {
            return;
        }
        let mut variants = Category::VARIANTS.to_vec();
        for _ in 0..self.rng.range(2, 5) {
            let v = variants.remove(self.rng.below(variants.len()));
            let delay = Duration::minutes(self.rng.range(5, 36 * 60));
            self.variant(&story, &original, &text, delay, v);
        }
        for _ in 0..*self.rng.pick(&[0, 1, 1, 2, 2, 3]) {
            let outlet = (home + 1 + self.rng.below(self.outlets.len() - 1)) % self.outlets.len();
            let (statement, background) = (self.rng.chance(0.7), self.rng.chance(0.5));
            let other = self.write(&story, outlet, false, statement, background);
            let at = start + Duration::minutes(self.rng.range(10, 8 * 60));
            let p = self.publish(&story, outlet, &other, at, Category::OtherWriteUp);
            if self.rng.chance(0.3) {
                let v = *self.rng.pick(&Category::VARIANTS[2..10]);
                let delay = Duration::minutes(self.rng.range(5, 24 * 60));
                self.variant(&story, &p, &other, delay, v);
            }
        }
        if self.rng.chance(0.35) {
            let mut next = story;
            self.advance(&mut next);
            let (statement, background) = (self.rng.chance(0.5), self.rng.chance(0.8));
            let text = self.write(&next, home, true, statement, background);
            let at = start + Duration::minutes(self.rng.range(18 * 60, 30 * 60));
            self.publish(&next, home, &text, at, Category::FollowUp);
        }
    }

    fn person(&mut self) -> (String, String) {
        let first = *self.rng.pick(self.g.lines("first_names"));
        let last = *self.rng.pick(self.g.lines("last_names"));
        (format!("{first} {last}"), last.to_owned())
    }

    fn new_story(&mut self, start: DateTime<Utc>) -> Story {
        let kind = *self.rng.pick(&KINDS);
        let city: Vec<&str> = self.rng.pick(self.g.lines("cities")).split('|').collect();
        let city2 = self.rng.pick(self.g.lines("cities_name")).to_string();
        let mut f = Facts::new();
        f.insert("city", city[0].into());
        f.insert("country", city[1].into());
        f.insert("adj", city[2].into());
        f.insert("city2", city2);
        for (full_key, last_key) in [("p1", "p1_last"), ("p2", "p2_last"), ("p3", "p3_last")] {
            let (full, last) = self.person();
            f.insert(full_key, full);
            f.insert(last_key, last);
        }
        kind_facts(&self.g, &mut self.rng, kind, &mut f);
        let titles = titles(&mut self.rng, kind, &f);
        for (key, title) in ["t1", "t2", "t3"].into_iter().zip(titles) {
            f.insert(key, title);
        }
        f.insert("day", weekday(start));
        let wire = *self.rng.pick(self.g.lines("wires"));
        let statement = self.g.pick(&format!("{kind}.statement"), &f, &mut self.rng);
        let background = format!(
            "{} {}",
            self.g
                .pick(&format!("{kind}.background"), &f, &mut self.rng),
            self.g.pick(&format!("{kind}.context"), &f, &mut self.rng)
        );
        Story {
            kind,
            dateline: format!("{} ({wire}) —", city[3]),
            facts: f,
            statement,
            background,
            start,
        }
    }

    /// Moves a story on by a day: later weekday, new numbers, same people and places.
    fn advance(&mut self, story: &mut Story) {
        let kind = story.kind;
        let mut f = story.facts.clone();
        kind_facts(&self.g, &mut self.rng, kind, &mut f);
        for keep in [
            "storm", "company", "club1", "club2", "union", "party1", "party2",
        ] {
            if let Some(v) = story.facts.get(keep) {
                f.insert(keep, v.clone());
            }
        }
        story.start += Duration::days(1);
        f.insert("day", weekday(story.start));
        story.facts = f;
    }

    /// One outlet's write-up of a story.
    fn write(
        &mut self,
        s: &Story,
        outlet: usize,
        followup: bool,
        statement: bool,
        background: bool,
    ) -> Text {
        let k = s.kind;
        let mut f = s.facts.clone();
        let title = self.g.pick(&format!("{k}.headline"), &f, &mut self.rng);
        let lede = self.lede(s, followup);
        let mut body: Vec<String> = (0..self.rng.range(3, 7))
            .map(|_| self.paragraph(k, &mut f))
            .collect();
        if statement {
            let intro = self.rng.pick(&[
                "In a statement, the authorities said",
                "A statement issued later said",
                "Officials said in a written statement",
                "According to a statement released on the day,",
            ]);
            let at = self.rng.below(body.len() + 1);
            body.insert(at, format!("{intro}: “{}”", s.statement));
        }
        if background {
            let at = self.rng.below(body.len() + 1);
            body.insert(at, s.background.clone());
        }
        let mut paragraphs = vec![lede];
        paragraphs.extend(body);
        if self.rng.chance(0.6) {
            paragraphs.push(self.g.pick("next", &f, &mut self.rng));
        }
        let footer = self.outlets[outlet].footer;
        paragraphs.extend(self.g.lines(footer).iter().map(|l| l.to_string()));
        Text { title, paragraphs }
    }

    fn lede(&mut self, s: &Story, followup: bool) -> String {
        let k = s.kind;
        let section = if followup { "followup" } else { "lede" };
        format!(
            "{} {}",
            self.g
                .pick(&format!("{k}.{section}"), &s.facts, &mut self.rng),
            self.g.pick(&format!("{k}.detail"), &s.facts, &mut self.rng)
        )
    }

    /// Queues a write-up (or a copy of one) as a message; returns its cluster.
    fn publish(
        &mut self,
        s: &Story,
        outlet: usize,
        text: &Text,
        at: DateTime<Utc>,
        category: Category,
    ) -> Published {
        let o = &self.outlets[outlet];
        let url = format!(
            "https://{}/{}/{}/{}-{:04x}",
            o.domain,
            section(s.kind),
            at.format("%Y/%m/%d"),
            slug(&text.title),
            self.rng.next_u64() & 0xffff
        );
        let cluster = self.clusters;
        self.clusters += 1;
        let p = Published {
            cluster,
            story: self.stories,
            url,
            at,
            outlet,
        };
        self.push(&p, text, at, at, None, category);
        p
    }

    fn push(
        &mut self,
        p: &Published,
        text: &Text,
        arrival: DateTime<Utc>,
        published: DateTime<Utc>,
        modified: Option<DateTime<Utc>>,
        category: Category,
    ) {
        let mut raw = RawArticle::new(
            InputFormat::Text,
            text.title.clone(),
            text.paragraphs.join("\n\n"),
        );
        raw.url = Some(p.url.clone());
        raw.published = Some(RawDate::Text(published.to_rfc3339()));
        raw.modified = modified.map(|m| RawDate::Text(m.to_rfc3339()));
        raw.source_name = Some(self.outlets[p.outlet].name.to_owned());
        self.items.push(Item {
            raw,
            arrival,
            cluster: p.cluster,
            story: p.story,
            category,
        });
    }

    /// Queues a copy of a published write-up, `delay` after it.
    fn variant(
        &mut self,
        s: &Story,
        original: &Published,
        text: &Text,
        delay: Duration,
        category: Category,
    ) {
        let arrival = original.at + delay;
        let partner =
            (original.outlet + 1 + self.rng.below(self.outlets.len() - 1)) % self.outlets.len();
        let partner_url = format!(
            "https://{}/news/{}-{:06x}",
            self.outlets[partner].domain,
            slug(&text.title),
            self.rng.next_u64() & 0xff_ffff
        );
        let same_url = |url: String| Published {
            url,
            outlet: original.outlet,
            ..original.clone()
        };
        let partner_copy = Published {
            url: partner_url,
            outlet: partner,
            ..original.clone()
        };
        let mut t = text.clone();
        let (p, published, modified) = match category {
            Category::ExactResend => (same_url(original.url.clone()), original.at, None),
            Category::TrackingUrl => {
                let tracking = self.rng.pick(&[
                    "?utm_source=newsletter&utm_medium=email&utm_campaign=morning",
                    "?utm_source=twitter&utm_medium=social",
                    "?fbclid=IwAR3xq9Zk2",
                    "?utm_source=rss&utm_medium=feed#comments",
                ]);
                (
                    same_url(format!("{}{tracking}", original.url)),
                    original.at,
                    None,
                )
            }
            Category::Revision => {
                self.rewrite_one(s, &mut t);
                (same_url(original.url.clone()), original.at, Some(arrival))
            }
            _ => {
                match category {
                    Category::NewHeadline => self.new_headline(s, &mut t),
                    Category::WirePrefix => prefix(s, &mut t),
                    Category::DroppedParagraph => {
                        let i = 1 + self.rng.below(t.paragraphs.len() - 1);
                        t.paragraphs.remove(i);
                    }
                    Category::AddedParagraph => {
                        let mut f = s.facts.clone();
                        f.insert(
                            "source_outlet",
                            self.outlets[original.outlet].name.to_owned(),
                        );
                        let extra = self.g.pick("partner_note", &f, &mut self.rng);
                        let i = 1 + self.rng.below(t.paragraphs.len());
                        t.paragraphs.insert(i, extra);
                    }
                    Category::ChangedParagraph => self.rewrite_one(s, &mut t),
                    Category::TypoEdits => self.typos(&mut t),
                    Category::PrefixAndChange => {
                        prefix(s, &mut t);
                        self.rewrite_one(s, &mut t);
                        self.new_headline(s, &mut t);
                    }
                    _ => {}
                }
                (partner_copy, arrival, None)
            }
        };
        self.push(&p, &t, arrival, published, modified, category);
    }

    fn new_headline(&mut self, s: &Story, t: &mut Text) {
        for _ in 0..10 {
            let title = self
                .g
                .pick(&format!("{}.headline", s.kind), &s.facts, &mut self.rng);
            if title != t.title {
                t.title = title;
                return;
            }
        }
        t.title = format!("{} (updated)", t.title);
    }

    /// Replaces one paragraph (the lede included) with a freshly written one.
    fn rewrite_one(&mut self, s: &Story, t: &mut Text) {
        let i = self.rng.below(t.paragraphs.len());
        t.paragraphs[i] = if i == 0 {
            self.lede(s, false)
        } else {
            let mut f = s.facts.clone();
            self.paragraph(s.kind, &mut f)
        };
    }

    /// A handful of word-level slips: swapped, dropped or doubled letters, a replaced word.
    fn typos(&mut self, t: &mut Text) {
        for _ in 0..self.rng.range(3, 8) {
            let p = self.rng.below(t.paragraphs.len());
            let mut words: Vec<String> = t.paragraphs[p].split(' ').map(str::to_owned).collect();
            let w = self.rng.below(words.len());
            let chars: Vec<char> = words[w].chars().collect();
            if chars.len() < 4 || !chars.iter().all(|c| c.is_alphabetic()) {
                continue;
            }
            let at = 1 + self.rng.below(chars.len() - 2);
            let mut edited = chars.clone();
            match self.rng.below(4) {
                0 => edited.swap(at, at + 1),
                1 => {
                    edited.remove(at);
                }
                2 => edited.insert(at, chars[at]),
                _ => edited = "the".chars().collect(),
            }
            words[w] = edited.into_iter().collect();
            t.paragraphs[p] = words.join(" ");
        }
    }

    /// One body paragraph: details, context, a quote, reactions or local colour.
    fn paragraph(&mut self, k: &str, f: &mut Facts) -> String {
        let rng = &mut self.rng;
        match rng.below(6) {
            5 => format!(
                "{} {}",
                self.g.pick("colour", f, rng),
                self.g.pick(&format!("{k}.detail"), f, rng)
            ),
            0 | 1 => format!(
                "{} {}",
                self.g.pick(&format!("{k}.detail"), f, rng),
                self.g.pick(&format!("{k}.detail"), f, rng)
            ),
            2 => format!(
                "{} {}",
                self.g.pick(&format!("{k}.context"), f, rng),
                self.g.pick(&format!("{k}.detail"), f, rng)
            ),
            3 => {
                let who = rng.below(3) + 1;
                let (p, t) = (format!("p{who}"), format!("t{who}"));
                let (name, title) = (f[p.as_str()].clone(), f[t.as_str()].clone());
                f.insert("who", name);
                f.insert("who_title", title);
                let q = self.g.pick(&format!("{k}.quote"), f, rng);
                f.insert("q", q);
                self.g.pick("quote_frame", f, rng)
            }
            _ => format!(
                "{} {}",
                self.g.pick("reaction", f, rng),
                self.g.pick(&format!("{k}.detail"), f, rng)
            ),
        }
    }
}

/// Puts the wire dateline in front of the lede: "SEOUL (AP) — …".
fn prefix(s: &Story, t: &mut Text) {
    t.paragraphs[0] = format!("{} {}", s.dateline, t.paragraphs[0]);
}

fn section(kind: &str) -> &'static str {
    match kind {
        "rates" | "earnings" | "strike" => "business",
        "match" => "sport",
        "election" | "court" => "politics",
        _ => "world",
    }
}

/// URL path segment from a headline.
fn slug(title: &str) -> String {
    let words: Vec<String> = title
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(8)
        .map(str::to_lowercase)
        .collect();
    words.join("-")
}

fn weekday(t: DateTime<Utc>) -> String {
    [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ][t.weekday().num_days_from_monday() as usize]
        .to_owned()
}
