//! Deterministic generator of the labelled dedup evaluation corpus: news stories written up
//! by several outlets, and the copies a wire feed produces of them (resends, tracking URLs,
//! syndication with a dateline, trimmed or extended copies, edited paragraphs, typos, new
//! headlines, revisions), in arrival order.
//!
//! Text comes from the templates and word lists in `eval/dedup/`; randomness from a seeded
//! SplitMix64, so a seed always gives the same corpus on every platform.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};

use crate::model::{InputFormat, RawArticle, RawDate};

const TEMPLATES: &str = include_str!("../../eval/dedup/templates.txt");
const LISTS: &str = include_str!("../../eval/dedup/lists.txt");
const KINDS: [&str; 10] = [
    "quake", "storm", "election", "rates", "earnings", "court", "match", "crash", "wildfire",
    "strike",
];

/// SplitMix64: tiny, seedable, identical everywhere.
pub(super) struct Rng(u64);

impl Rng {
    pub(super) fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub(super) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        super::minhash::mix64(self.0)
    }

    fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 32) * n as u64) >> 32) as usize
    }

    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as usize) as i64
    }

    fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn decimal(&mut self, lo: f64, hi: f64) -> String {
        let x = lo + (hi - lo) * self.below(1001) as f64 / 1000.0;
        format!("{x:.1}")
    }
}

/// Thousands separators, as news copy writes counts.
fn count(n: i64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Template sections and word lists, by name.
struct Grammar {
    sections: HashMap<&'static str, Vec<&'static str>>,
}

type Facts = HashMap<&'static str, String>;

impl Grammar {
    fn load() -> Self {
        let mut sections: HashMap<&'static str, Vec<&'static str>> = HashMap::new();
        for text in [TEMPLATES, LISTS] {
            let mut current = None;
            for line in text.lines().map(str::trim) {
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                    current = Some(name);
                } else if let Some(name) = current {
                    sections.entry(name).or_default().push(line);
                }
            }
        }
        let names = sections["cities"]
            .iter()
            .map(|c| c.split('|').next().expect("name"))
            .collect();
        sections.insert("cities_name", names);
        Grammar { sections }
    }

    fn lines(&self, section: &str) -> &[&'static str] {
        self.sections
            .get(section)
            .unwrap_or_else(|| panic!("no section {section}"))
    }

    fn pick(&self, section: &str, facts: &Facts, rng: &mut Rng) -> String {
        let line = *rng.pick(self.lines(section));
        self.expand(line, facts, rng)
    }

    fn expand(&self, template: &str, facts: &Facts, rng: &mut Rng) -> String {
        let mut out = String::with_capacity(template.len() + 32);
        self.expand_into(template, facts, rng, &mut out);
        out
    }

    fn expand_into(&self, t: &str, facts: &Facts, rng: &mut Rng, out: &mut String) {
        let mut rest = t;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let (inner, after) = split_group(&rest[open + 1..]);
            let options = split_top_level(inner);
            if options.len() > 1 {
                let choice = *rng.pick(&options);
                self.expand_into(choice, facts, rng, out);
            } else if let Some(list) = inner.strip_prefix('@') {
                let item = *rng.pick(self.lines(list));
                self.expand_into(item, facts, rng, out);
            } else if let Some(value) = facts.get(inner) {
                out.push_str(value);
            } else {
                panic!("unknown placeholder {{{inner}}} in {t:?}");
            }
            rest = after;
        }
        out.push_str(rest);
    }
}

/// Splits `"inner}rest"` at the brace closing the group that was just opened.
fn split_group(s: &str) -> (&str, &str) {
    let mut depth = 0;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return (&s[..i], &s[i + 1..]),
            '}' => depth -= 1,
            _ => {}
        }
    }
    panic!("unbalanced braces in {s:?}")
}

fn split_top_level(s: &str) -> Vec<&str> {
    let (mut depth, mut start, mut parts) = (0, 0, Vec::new());
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            '|' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

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
        self.kind_facts(kind, &mut f);
        let titles = self.titles(kind, &f);
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

    /// The numbers and names a kind of story is about.
    fn kind_facts(&mut self, kind: &str, f: &mut Facts) {
        let r = &mut self.rng;
        let mut set = |k: &'static str, v: String| {
            f.insert(k, v);
        };
        let pick = |r: &mut Rng, g: &Grammar, list: &str| r.pick(g.lines(list)).to_string();
        match kind {
            "quake" => {
                let dead = r.range(3, 350);
                set("mag", r.decimal(5.0, 7.9));
                set("depth", r.range(5, 70).to_string());
                set("dead", count(dead));
                set("injured", count(dead * r.range(2, 8)));
                set("aftershocks", r.range(5, 80).to_string());
                set("homes", count(r.range(50, 5000)));
            }
            "storm" => {
                let name = pick(r, &self.g, "storm_names");
                let kind = pick(r, &self.g, "storm_kinds");
                set("storm", format!("{kind} {name}"));
                set("wind", r.range(90, 240).to_string());
                set("rain", r.range(120, 480).to_string());
                set("dead", r.range(2, 60).to_string());
                set("power", count(r.range(20, 900) * 1000));
                set("evac", count(r.range(5, 300) * 1000));
            }
            "election" => {
                let pct1 = 45.0 + r.below(170) as f64 / 10.0;
                let pct2 = 100.0 - pct1 - 0.5 - r.below(75) as f64 / 10.0;
                let parties = self.g.lines("parties");
                let a = r.below(parties.len());
                let b = (a + 1 + r.below(parties.len() - 1)) % parties.len();
                set("party1", parties[a].into());
                set("party2", parties[b].into());
                set("pct1", format!("{pct1:.1}"));
                set("pct2", format!("{pct2:.1}"));
                set("turnout", r.range(48, 81).to_string());
                set("seats", r.range(60, 240).to_string());
            }
            "rates" => {
                let up = r.chance(0.5);
                set("move_verb", if up { "raised" } else { "cut" }.into());
                set("move_base", if up { "raise" } else { "cut" }.into());
                set("move_noun", if up { "increase" } else { "cut" }.into());
                set("rate", format!("{:.2}", 0.75 + 0.25 * r.below(44) as f64));
                set("bps", r.pick(&["25", "50", "75"]).to_string());
                set("inflation", r.decimal(2.1, 9.8));
                set("growth_forecast", r.decimal(0.4, 3.5));
            }
            "earnings" => {
                let revenue = 1.2 + r.below(470) as f64 / 10.0;
                let margin = r.range(8, 35);
                let up = r.chance(0.6);
                let company = format!(
                    "{} {}",
                    pick(r, &self.g, "company_first"),
                    pick(r, &self.g, "company_second")
                );
                set("company", company);
                set("product", pick(r, &self.g, "products"));
                set(
                    "quarter",
                    r.pick(&["first", "second", "third", "fourth"]).to_string(),
                );
                set("revenue", format!("{revenue:.1}"));
                set("revenue_est", format!("{:.1}", revenue * 0.97));
                set("profit", count(r.range(80, 5200)));
                set("profit_prev", count(r.range(80, 5200)));
                set("growth", r.range(2, 45).to_string());
                set("shares", r.decimal(1.5, 14.0));
                set("move_word", if up { "rose" } else { "fell" }.into());
                set("margin", margin.to_string());
                set("margin_prev", (margin + r.range(-4, 4)).to_string());
                set("jobs_n", count(r.range(2, 50) * 100));
                set("ytd", r.range(3, 40).to_string());
            }
            "court" => {
                let years = r.range(2, 15);
                set("charge", pick(r, &self.g, "charges"));
                set("years", years.to_string());
                set("years_sought", (years + r.range(1, 6)).to_string());
                set("fine", r.decimal(1.5, 120.0));
                set("months_n", r.range(3, 30).to_string());
            }
            "match" => {
                let clubs = self.g.lines("clubs");
                let a = r.below(clubs.len());
                let b = (a + 1 + r.below(clubs.len() - 1)) % clubs.len();
                let s1 = r.range(1, 4);
                set("club1", clubs[a].into());
                set("club2", clubs[b].into());
                set("s1", s1.to_string());
                set("s2", r.range(0, s1 - 1).to_string());
                set("competition", pick(r, &self.g, "competitions"));
                set("attendance", count(r.range(18, 92) * 1000));
                set("minute", r.range(12, 89).to_string());
            }
            "crash" => {
                let vehicle = pick(r, &self.g, "vehicles");
                let line = match vehicle.as_str() {
                    "train" => "Rail",
                    "ferry" => "Ferries",
                    _ => "Coach Lines",
                };
                let dead = r.range(4, 90);
                let operator = format!("{} {line}", pick(r, &self.g, "company_first"));
                set("operator", operator);
                set("vehicle", vehicle);
                set("dead", dead.to_string());
                set("injured", (dead * r.range(1, 5)).to_string());
                set("passengers", r.range(60, 900).to_string());
            }
            "wildfire" => {
                set("hectares", count(r.range(12, 850) * 100));
                set("evac", count(r.range(15, 600) * 100));
                set("homes", r.range(20, 900).to_string());
                set("crews", count(r.range(200, 3500)));
                set("containment", r.range(0, 60).to_string());
            }
            _ => {
                set("union", pick(r, &self.g, "unions"));
                set("sector", pick(r, &self.g, "sectors"));
                set("workers", count(r.range(8, 400) * 1000));
                set("days", r.range(1, 5).to_string());
                set("demand", r.range(8, 20).to_string());
                set("offer", r.range(2, 7).to_string());
                set("marchers", count(r.range(5, 120) * 1000));
                set("ytd", r.range(3, 15).to_string());
            }
        }
        set("firm", pick(r, &self.g, "firms"));
        set("org", "the authorities".into());
    }

    /// How the three people of a story are introduced in quotes.
    fn titles(&mut self, kind: &str, f: &Facts) -> [String; 3] {
        let city = &f["city"];
        let firm = &f["firm"];
        let t = |s: &str| s.to_owned();
        match kind {
            "quake" => [
                t("head of the national disaster agency"),
                format!("the mayor of {city}"),
                format!("a resident of {city}"),
            ],
            "storm" => [
                t("a forecaster at the national weather service"),
                t("the provincial governor"),
                format!("a resident of {city}"),
            ],
            "election" => [
                t("the president-elect"),
                format!("the {} candidate", f["party2"].trim_start_matches("the ")),
                format!("a political analyst at {firm}"),
            ],
            "rates" => [
                t("the central bank governor"),
                format!("an economist at {firm}"),
                t("the finance minister"),
            ],
            "earnings" => [
                format!("{}'s chief executive", f["company"]),
                t("the chief financial officer"),
                format!("an analyst at {firm}"),
            ],
            "court" => [
                t("the presiding judge"),
                t(*self.rng.pick(&[
                    "deputy minister of transport",
                    "regional governor",
                    "head of the state railway company",
                    "customs chief",
                ])),
                format!("a lawyer for {}", f["p2"]),
            ],
            "match" => [
                format!("the {} striker", f["club1"]),
                format!("the {} coach", f["club1"]),
                format!("the {} captain", f["club1"]),
            ],
            "crash" => [
                t("the transport minister"),
                format!("a spokesperson for {}", f["operator"]),
                t("a passenger"),
            ],
            "wildfire" => [
                t("the regional fire chief"),
                t("the regional governor"),
                t("a resident who fled"),
            ],
            _ => [
                format!("the leader of {}", f["union"]),
                t("the labour minister"),
                format!("a commuter in {city}"),
            ],
        }
    }

    /// Moves a story on by a day: later weekday, new numbers, same people and places.
    fn advance(&mut self, story: &mut Story) {
        let kind = story.kind;
        let mut f = story.facts.clone();
        self.kind_facts(kind, &mut f);
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
    #[allow(clippy::too_many_arguments)]
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
