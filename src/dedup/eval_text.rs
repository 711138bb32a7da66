//! Text machinery of the evaluation corpus: a seeded random source, the template grammar
//! of `eval/dedup/` ({fact}, {@list}, {a|b} alternatives, nested) and the facts each kind of
//! news story is told with.

use std::collections::HashMap;

const TEMPLATES: &str = include_str!("../../eval/dedup/templates.txt");
const LISTS: &str = include_str!("../../eval/dedup/lists.txt");
pub(super) const KINDS: [&str; 10] = [
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

    pub(super) fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 32) * n as u64) >> 32) as usize
    }

    pub(super) fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as usize) as i64
    }

    pub(super) fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    pub(super) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    pub(super) fn decimal(&mut self, lo: f64, hi: f64) -> String {
        let x = lo + (hi - lo) * self.below(1001) as f64 / 1000.0;
        format!("{x:.1}")
    }
}

/// Thousands separators, as news copy writes counts.
pub(super) fn count(n: i64) -> String {
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
pub(super) struct Grammar {
    sections: HashMap<&'static str, Vec<&'static str>>,
}

pub(super) type Facts = HashMap<&'static str, String>;

impl Grammar {
    pub(super) fn load() -> Self {
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

    pub(super) fn lines(&self, section: &str) -> &[&'static str] {
        self.sections
            .get(section)
            .unwrap_or_else(|| panic!("no section {section}"))
    }

    pub(super) fn pick(&self, section: &str, facts: &Facts, rng: &mut Rng) -> String {
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

/// The numbers and names a kind of story is about.
pub(super) fn kind_facts(g: &Grammar, r: &mut Rng, kind: &str, f: &mut Facts) {
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
            let name = pick(r, g, "storm_names");
            let kind = pick(r, g, "storm_kinds");
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
            let parties = g.lines("parties");
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
                pick(r, g, "company_first"),
                pick(r, g, "company_second")
            );
            set("company", company);
            set("product", pick(r, g, "products"));
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
            set("charge", pick(r, g, "charges"));
            set("years", years.to_string());
            set("years_sought", (years + r.range(1, 6)).to_string());
            set("fine", r.decimal(1.5, 120.0));
            set("months_n", r.range(3, 30).to_string());
        }
        "match" => {
            let clubs = g.lines("clubs");
            let a = r.below(clubs.len());
            let b = (a + 1 + r.below(clubs.len() - 1)) % clubs.len();
            let s1 = r.range(1, 4);
            set("club1", clubs[a].into());
            set("club2", clubs[b].into());
            set("s1", s1.to_string());
            set("s2", r.range(0, s1 - 1).to_string());
            set("competition", pick(r, g, "competitions"));
            set("attendance", count(r.range(18, 92) * 1000));
            set("minute", r.range(12, 89).to_string());
        }
        "crash" => {
            let vehicle = pick(r, g, "vehicles");
            let line = match vehicle.as_str() {
                "train" => "Rail",
                "ferry" => "Ferries",
                _ => "Coach Lines",
            };
            let dead = r.range(4, 90);
            let operator = format!("{} {line}", pick(r, g, "company_first"));
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
            set("union", pick(r, g, "unions"));
            set("sector", pick(r, g, "sectors"));
            set("workers", count(r.range(8, 400) * 1000));
            set("days", r.range(1, 5).to_string());
            set("demand", r.range(8, 20).to_string());
            set("offer", r.range(2, 7).to_string());
            set("marchers", count(r.range(5, 120) * 1000));
            set("ytd", r.range(3, 15).to_string());
        }
    }
    set("firm", pick(r, g, "firms"));
    set("org", "the authorities".into());
}

/// How the three people of a story are introduced in quotes.
pub(super) fn titles(r: &mut Rng, kind: &str, f: &Facts) -> [String; 3] {
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
            r.pick(&[
                "deputy minister of transport",
                "regional governor",
                "head of the state railway company",
                "customs chief",
            ])
            .to_string(),
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
