//! Deterministic corpus of raw article messages for the benchmarks (`benches/pipeline.rs`)
//! and the end-to-end runs (`examples/e2e.rs`): news stories from a handful of outlets in
//! the three input shapes the service sees (JSON with a text body, JSON with an HTML body,
//! the plain-text layout), mostly English with some German, French and Spanish, and the
//! copies a wire feed produces of them.
//!
//! Mix, by default: 20% exact duplicates (half byte-identical resends, half the same body
//! under a partner's URL and headline-free metadata changes) and 5% near duplicates (a wire
//! dateline prefixed to the body, under a partner's URL). The rest are new stories.
//! A seed always gives the same messages; message sizes stay within about 10% of the target.

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::json;

/// What a generated message is, relative to the messages before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Original,
    /// Byte for byte an earlier message.
    Resend,
    /// An earlier story's title and body under a partner outlet's URL.
    Syndicated,
    /// An earlier story's body with a wire dateline in front, under a partner's URL.
    WirePrefix,
}

#[derive(Debug, Clone)]
pub struct CorpusOptions {
    /// Target message size in bytes (each message within about 10% of it).
    pub size: usize,
    pub seed: u64,
    /// Share of exact duplicates (resends and syndicated copies, half each).
    pub exact_duplicates: f64,
    /// Share of near duplicates (wire-prefix copies).
    pub near_duplicates: f64,
    /// Publication time of the first story; later ones follow a minute or so apart.
    pub start: DateTime<Utc>,
}

impl CorpusOptions {
    pub fn new(size: usize, seed: u64) -> Self {
        CorpusOptions {
            size,
            seed,
            exact_duplicates: 0.20,
            near_duplicates: 0.05,
            start: Utc
                .with_ymd_and_hms(2025, 3, 3, 6, 0, 0)
                .single()
                .expect("valid date"),
        }
    }
}

/// One message of the corpus.
#[derive(Debug, Clone)]
pub struct Message {
    pub payload: Vec<u8>,
    pub kind: Kind,
}

/// An endless, deterministic stream of messages.
pub struct Corpus {
    opts: CorpusOptions,
    rng: Rng,
    /// Recent originals, for copies (a ring: copies arrive within a few hundred messages).
    recent: Vec<Story>,
    produced: u64,
}

#[derive(Debug, Clone)]
struct Story {
    lang: Lang,
    shape: Shape,
    outlet: usize,
    title: String,
    url: String,
    summary: String,
    paragraphs: Vec<String>,
    published: DateTime<Utc>,
    author: String,
    tags: Vec<&'static str>,
    payload: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lang {
    En,
    De,
    Fr,
    Es,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    JsonText,
    JsonHtml,
    Text,
}

const RECENT: usize = 512;

impl Corpus {
    pub fn new(opts: CorpusOptions) -> Self {
        Corpus {
            rng: Rng(opts.seed ^ 0x6e65_7773_666c_6f77),
            opts,
            recent: Vec::with_capacity(RECENT),
            produced: 0,
        }
    }

    /// The first `n` messages of the corpus for these options.
    pub fn generate(opts: CorpusOptions, n: usize) -> Vec<Message> {
        Corpus::new(opts).take(n).collect()
    }

    fn original(&mut self) -> Story {
        let n = self.produced;
        let rng = &mut self.rng;
        let lang = match rng.below(20) {
            0 => Lang::De,
            1 => Lang::Fr,
            2 => Lang::Es,
            _ => Lang::En,
        };
        let shape = match rng.below(20) {
            0..=11 => Shape::JsonText,
            12..=14 => Shape::JsonHtml,
            _ => Shape::Text,
        };
        let outlet = rng.below(OUTLETS.len());
        let words = lang_words(lang);
        let title = title(rng, words);
        let section = SECTIONS[rng.below(SECTIONS.len())];
        let published = self.opts.start + Duration::seconds(n as i64 * 61);
        let slug: String = title
            .split(' ')
            .take(6)
            .map(|w| {
                w.chars()
                    .filter(|c| c.is_ascii_alphanumeric())
                    .collect::<String>()
                    .to_ascii_lowercase()
            })
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join("-");
        let mut url = format!(
            "https://www.{}/{section}/{}/{slug}-{n}",
            OUTLETS[outlet].0,
            published.format("%Y/%m/%d")
        );
        if rng.below(3) == 0 {
            url.push_str("?utm_source=rss&utm_medium=feed");
        }
        let summary = sentence(rng, words);
        let author = format!(
            "By {} {}",
            FIRST_NAMES[rng.below(FIRST_NAMES.len())],
            LAST_NAMES[rng.below(LAST_NAMES.len())]
        );
        let tags = (0..1 + rng.below(3))
            .map(|_| TAGS[rng.below(TAGS.len())])
            .collect();
        let mut story = Story {
            lang,
            shape,
            outlet,
            title,
            url,
            summary,
            paragraphs: Vec::new(),
            published,
            author,
            tags,
            payload: Vec::new(),
        };
        // Grow the body sentence by sentence until the message reaches its target size
        // (within about 10% of `size`); paragraphs hold two to five sentences.
        let target = self.opts.size * (95 + self.rng.below(11)) / 100;
        let overhead = render(&story, None).len();
        let (mut body_len, mut in_paragraph, mut paragraph_len) = (0, 0, 0);
        loop {
            let s = sentence(&mut self.rng, words);
            let (now, then) = (overhead + body_len, overhead + body_len + s.len());
            // Stop at whichever side of the target is nearer.
            let last = then >= target;
            if last && then - target > target.saturating_sub(now) && !story.paragraphs.is_empty() {
                break;
            }
            if in_paragraph == paragraph_len {
                story.paragraphs.push(String::new());
                body_len += if shape == Shape::JsonHtml { 9 } else { 4 };
                (in_paragraph, paragraph_len) = (0, 2 + self.rng.below(4));
            }
            let p = story.paragraphs.last_mut().expect("non-empty");
            if !p.is_empty() {
                p.push(' ');
                body_len += 1;
            }
            body_len += s.len();
            p.push_str(&s);
            in_paragraph += 1;
            if last {
                break;
            }
        }
        story.payload = render(&story, None);
        story
    }

    /// A copy of a recent story under another outlet's URL; `dateline` prefixes the body.
    fn copy(&mut self, of: &Story, dateline: bool) -> Vec<u8> {
        let mut c = of.clone();
        let partner = (of.outlet + 1 + self.rng.below(OUTLETS.len() - 1)) % OUTLETS.len();
        c.outlet = partner;
        c.url = format!(
            "https://{}/wire/{}-{}",
            OUTLETS[partner].0,
            self.produced,
            self.rng.below(1_000_000)
        );
        c.published = of.published + Duration::minutes(3 + self.rng.below(90) as i64);
        c.author = String::new();
        let prefix = dateline.then(|| {
            let city = CITIES[self.rng.below(CITIES.len())];
            let agency = AGENCIES[self.rng.below(AGENCIES.len())];
            format!("{} ({agency}) - ", city.to_uppercase())
        });
        render(&c, prefix.as_deref())
    }
}

impl Iterator for Corpus {
    type Item = Message;

    fn next(&mut self) -> Option<Message> {
        let r = self.rng.unit();
        let exact = self.opts.exact_duplicates;
        let near = self.opts.near_duplicates;
        let msg = if self.recent.is_empty() || r >= exact + near {
            let story = self.original();
            let payload = story.payload.clone();
            if self.recent.len() < RECENT {
                self.recent.push(story);
            } else {
                let slot = self.produced as usize % RECENT;
                self.recent[slot] = story;
            }
            Message {
                payload,
                kind: Kind::Original,
            }
        } else {
            let of = self.recent[self.rng.below(self.recent.len())].clone();
            if r < exact / 2.0 {
                Message {
                    payload: of.payload.clone(),
                    kind: Kind::Resend,
                }
            } else if r < exact {
                Message {
                    payload: self.copy(&of, false),
                    kind: Kind::Syndicated,
                }
            } else {
                Message {
                    payload: self.copy(&of, true),
                    kind: Kind::WirePrefix,
                }
            }
        };
        self.produced += 1;
        Some(msg)
    }
}

/// The message bytes of a story in its shape; `dateline` goes in front of the first paragraph.
fn render(s: &Story, dateline: Option<&str>) -> Vec<u8> {
    let mut paragraphs = s.paragraphs.clone();
    if let (Some(d), Some(first)) = (dateline, paragraphs.first_mut()) {
        first.insert_str(0, d);
    }
    let (domain, source) = OUTLETS[s.outlet];
    let lang = match s.lang {
        Lang::En => "en",
        Lang::De => "de",
        Lang::Fr => "fr",
        Lang::Es => "es",
    };
    match s.shape {
        Shape::Text => {
            let mut out = format!(
                "{}\n{}\n{}\n{}\n\n",
                s.title,
                s.url,
                s.summary,
                s.published.format("%b %-d, %Y %H:%M UTC")
            );
            out.push_str(&paragraphs.join("\n\n"));
            out.push('\n');
            out.into_bytes()
        }
        Shape::JsonText => {
            // Two common producer dialects: a paragraph list, or one string.
            let body = if s.outlet % 2 == 0 {
                json!(paragraphs)
            } else {
                json!(paragraphs.join("\n\n"))
            };
            let v = json!({
                "title": s.title,
                "url": s.url,
                "summary": s.summary,
                "body": body,
                "published_at": s.published.to_rfc3339(),
                "author": s.author,
                "source": {"name": source, "url": format!("https://www.{domain}/")},
                "language": lang,
                "tags": s.tags,
            });
            serde_json::to_vec(&v).expect("serializes")
        }
        Shape::JsonHtml => {
            let mut html = String::from("<div class=\"article-body\"><figure><img src=\"/img/lead.jpg\" alt=\"\"><figcaption>Photo: agency</figcaption></figure>");
            for p in &paragraphs {
                html.push_str("<p>");
                html.push_str(&p.replace('&', "&amp;"));
                html.push_str("</p>");
            }
            html.push_str("<script>window.track && track('view');</script></div>");
            let v = json!({
                "headline": s.title,
                "link": s.url,
                "description": s.summary,
                "content": html,
                "datePublished": s.published.to_rfc3339(),
                "byline": s.author,
                "publisher": source,
                "inLanguage": lang,
                "keywords": s.tags,
            });
            serde_json::to_vec(&v).expect("serializes")
        }
    }
}

/// SplitMix64: small, fast, the same on every platform.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        crate::dedup::minhash::mix64(self.0)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn pick<'a>(&mut self, list: &[&'a str]) -> &'a str {
        list[self.below(list.len())]
    }
}

/// Sentence templates and slot words of one language. In templates, `{o}` is an
/// organization, `{p}` a place, `{n}` a person, `{x}` a number, `{t}` a topic noun,
/// `{v}` a verb phrase, `{a}` an adjective, `{d}` a day.
struct Words {
    templates: &'static [&'static str],
    topics: &'static [&'static str],
    verbs: &'static [&'static str],
    adjectives: &'static [&'static str],
    days: &'static [&'static str],
    title_templates: &'static [&'static str],
}

fn lang_words(lang: Lang) -> &'static Words {
    match lang {
        Lang::En => &EN,
        Lang::De => &DE,
        Lang::Fr => &FR,
        Lang::Es => &ES,
    }
}

fn fill(rng: &mut Rng, w: &Words, template: &str) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let slot = rest.as_bytes().get(i + 1).copied().unwrap_or(b'}');
        match slot {
            b'o' => out.push_str(rng.pick(ORGS)),
            b'p' => out.push_str(if rng.below(2) == 0 {
                rng.pick(COUNTRIES)
            } else {
                rng.pick(CITIES)
            }),
            b'n' => {
                out.push_str(rng.pick(FIRST_NAMES));
                out.push(' ');
                out.push_str(rng.pick(LAST_NAMES));
            }
            b'x' => out.push_str(&(2 + rng.below(980)).to_string()),
            b't' => out.push_str(rng.pick(w.topics)),
            b'v' => out.push_str(rng.pick(w.verbs)),
            b'a' => out.push_str(rng.pick(w.adjectives)),
            b'd' => out.push_str(rng.pick(w.days)),
            _ => {}
        }
        rest = &rest[(i + 3).min(rest.len())..];
    }
    out.push_str(rest);
    out
}

fn sentence(rng: &mut Rng, w: &Words) -> String {
    let t = rng.pick(w.templates);
    fill(rng, w, t)
}

fn title(rng: &mut Rng, w: &Words) -> String {
    let t = rng.pick(w.title_templates);
    fill(rng, w, t)
}

const OUTLETS: &[(&str, &str)] = &[
    ("harbourgazette.example", "Harbour Gazette"),
    ("dailyledger.example.com", "The Daily Ledger"),
    ("eastafrica.example.org", "East Africa Report"),
    ("metroherald.example.co.uk", "Metro Herald"),
    ("valleytimes.example", "Valley Times"),
    ("continental-post.example.eu", "Continental Post"),
    ("pacificwire.example.net", "Pacific Wire"),
    ("riverside-news.example", "Riverside News"),
];

const SECTIONS: &[&str] = &[
    "world", "business", "politics", "science", "health", "sport", "local", "climate",
];
const TAGS: &[&str] = &[
    "Economy",
    "Climate",
    "Transport",
    "Elections",
    "Health",
    "Energy",
    " Technology ",
    "Trade",
    "Agriculture",
    "Education",
];
const AGENCIES: &[&str] = &["Reuters", "AP", "AFP", "dpa", "EFE", "Wire Service"];
const ORGS: &[&str] = &[
    "the World Health Organization",
    "the European Central Bank",
    "the United Nations",
    "the International Monetary Fund",
    "the European Commission",
    "Siemens",
    "Toyota",
    "the World Bank",
    "NATO",
    "the African Union",
    "Airbus",
    "Unilever",
    "the Red Cross",
    "the Bank of England",
    "Greenpeace",
    "Volkswagen",
];
const COUNTRIES: &[&str] = &[
    "Kenya",
    "Germany",
    "France",
    "Brazil",
    "Japan",
    "India",
    "Canada",
    "Nigeria",
    "Spain",
    "Italy",
    "Mexico",
    "Australia",
    "South Africa",
    "Indonesia",
    "Poland",
    "Argentina",
    "Egypt",
    "Vietnam",
    "Norway",
    "Chile",
];
const CITIES: &[&str] = &[
    "Nairobi",
    "Berlin",
    "Paris",
    "São Paulo",
    "Tokyo",
    "Mumbai",
    "Toronto",
    "Lagos",
    "Madrid",
    "Milan",
    "Mexico City",
    "Sydney",
    "Cape Town",
    "Jakarta",
    "Warsaw",
    "Buenos Aires",
    "Cairo",
    "Hanoi",
    "Oslo",
    "Santiago",
    "Zürich",
    "Brussels",
];
const FIRST_NAMES: &[&str] = &[
    "Amina", "Jonas", "Claire", "Mateo", "Yuki", "Priya", "Liam", "Chidi", "Lucía", "Marco",
    "Sofia", "Tomasz", "Hannah", "Kwame", "Élodie", "Ravi", "Ingrid", "Diego",
];
const LAST_NAMES: &[&str] = &[
    "Odhiambo",
    "Becker",
    "Dubois",
    "Fernández",
    "Tanaka",
    "Sharma",
    "O'Connor",
    "Okafor",
    "García",
    "Rossi",
    "Nowak",
    "Müller",
    "Mensah",
    "Lefèvre",
    "Patel",
    "Larsen",
    "Silva",
    "Kowalski",
];

static EN: Words = Words {
    templates: &[
        "{o} said on {d} that {x} {t} in {p} would {v} by the end of the year.",
        "{n}, a spokesperson for {o}, told reporters the plan was {a} but necessary.",
        "Officials in {p} confirmed that spending on {t} had risen by {x} million euros since 2019.",
        "The decision follows months of talks between {o} and the government of {p}.",
        "Critics warned that the {a} measures could {v} without further funding.",
        "According to figures published by {o}, about {x} people were affected.",
        "Residents of {p} welcomed the announcement, although many said it came too late.",
        "“We cannot wait any longer,” {n} said in a statement on {d}.",
        "The minister of {t} in {p} is expected to present a revised budget next month.",
        "Analysts at {o} described the outlook for {t} as {a}.",
        "Talks on {t} are due to resume in {p} after a {x}-day pause.",
        "{n} of {o} said the figures showed that {t} would {v} within two years.",
        "Trade unions in {p} have called a strike over {t} for {d}.",
        "The report, which covers {x} regions, found that {t} remained {a}.",
        "Negotiators from {p} and {p} met for {x} hours on {d} without reaching a deal.",
        "Prices for {t} rose {x} percent in {p} last quarter, the fastest pace in a decade.",
        "{o} has pledged {x} million dollars to help {t} in {p} {v}.",
        "Local councillors said the new rules on {t} were {a} and hard to enforce.",
    ],
    topics: &[
        "ferry services",
        "wind farms",
        "rail lines",
        "hospitals",
        "schools",
        "grain exports",
        "housing projects",
        "water supplies",
        "bus routes",
        "data centres",
        "fishing quotas",
        "vaccine programmes",
        "road repairs",
        "solar parks",
        "pension funds",
        "coffee harvests",
    ],
    verbs: &[
        "recover",
        "reopen",
        "expand",
        "slow down",
        "double",
        "close",
        "improve",
        "fall behind",
        "resume",
        "shrink",
    ],
    adjectives: &[
        "ambitious",
        "costly",
        "uncertain",
        "promising",
        "fragile",
        "overdue",
        "controversial",
        "modest",
        "stable",
    ],
    days: &[
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ],
    title_templates: &[
        "{o} backs plan for {t} in {p}",
        "{p} to expand {t} after years of delays",
        "Strike over {t} halts work in {p}",
        "{n} named to lead {o} review of {t}",
        "Costs of {t} in {p} rise for third year",
        "{o} warns {t} could {v} as talks stall",
    ],
};

static DE: Words = Words {
    templates: &[
        "{o} teilte am {d} mit, dass {x} Projekte in {p} bis Jahresende {v} sollen.",
        "{n}, Sprecherin von {o}, nannte den Plan {a}, aber notwendig.",
        "Nach Angaben der Behörden in {p} stiegen die Ausgaben für {t} um {x} Millionen Euro.",
        "Kritiker warnten, dass die Maßnahmen ohne weitere Mittel {v} könnten.",
        "Die Gespräche zwischen {o} und der Regierung von {p} dauerten {x} Stunden.",
        "„Wir können nicht länger warten“, sagte {n} am {d}.",
        "Die Gewerkschaften in {p} haben für {d} einen Streik angekündigt.",
    ],
    topics: &[
        "den Nahverkehr",
        "die Krankenhäuser",
        "die Schulen",
        "den Wohnungsbau",
        "die Windkraft",
        "die Bahnstrecken",
    ],
    verbs: &[
        "wachsen",
        "schließen",
        "sich erholen",
        "stocken",
        "sich verdoppeln",
    ],
    adjectives: &["ehrgeizig", "teuer", "unsicher", "umstritten", "überfällig"],
    days: &["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag"],
    title_templates: &[
        "{o} unterstützt Pläne für {t} in {p}",
        "Streik legt {t} in {p} lahm",
        "{p}: Kosten für {t} steigen weiter",
    ],
};

static FR: Words = Words {
    templates: &[
        "{o} a annoncé {d} que {x} projets à {p} devraient {v} d'ici la fin de l'année.",
        "{n}, porte-parole de {o}, a jugé le plan {a} mais nécessaire.",
        "Selon les autorités de {p}, les dépenses pour {t} ont augmenté de {x} millions d'euros.",
        "Les critiques craignent que les mesures ne puissent {v} sans financement supplémentaire.",
        "Les négociations entre {o} et le gouvernement de {p} ont duré {x} heures.",
        "« Nous ne pouvons plus attendre », a déclaré {n} {d}.",
        "Les syndicats de {p} ont appelé à la grève pour {d}.",
    ],
    topics: &[
        "les transports",
        "les hôpitaux",
        "les écoles",
        "le logement",
        "l'éolien",
        "les lignes ferroviaires",
    ],
    verbs: &["reprendre", "fermer", "se redresser", "ralentir", "doubler"],
    adjectives: &["ambitieux", "coûteux", "incertain", "contesté", "attendu"],
    days: &["lundi", "mardi", "mercredi", "jeudi", "vendredi"],
    title_templates: &[
        "{o} soutient le projet pour {t} à {p}",
        "Une grève paralyse {t} à {p}",
        "{p} : le coût pour {t} augmente encore",
    ],
};

static ES: Words = Words {
    templates: &[
        "{o} anunció el {d} que {x} proyectos en {p} deberían {v} antes de fin de año.",
        "{n}, portavoz de {o}, calificó el plan de {a} pero necesario.",
        "Según las autoridades de {p}, el gasto en {t} aumentó en {x} millones de euros.",
        "Los críticos advirtieron que las medidas podrían {v} sin más financiación.",
        "Las negociaciones entre {o} y el gobierno de {p} duraron {x} horas.",
        "«No podemos esperar más», dijo {n} el {d}.",
        "Los sindicatos de {p} convocaron una huelga para el {d}.",
    ],
    topics: &[
        "el transporte",
        "los hospitales",
        "las escuelas",
        "la vivienda",
        "la energía eólica",
        "las líneas de tren",
    ],
    verbs: &["reabrir", "cerrar", "recuperarse", "frenarse", "duplicarse"],
    adjectives: &["ambicioso", "costoso", "incierto", "polémico", "esperado"],
    days: &["lunes", "martes", "miércoles", "jueves", "viernes"],
    title_templates: &[
        "{o} respalda el plan para {t} en {p}",
        "Una huelga paraliza {t} en {p}",
        "{p}: sube el coste de {t}",
    ],
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{decode, DecodeLimits};
    use crate::normalize::{normalize, NormalizeOptions};

    #[test]
    fn deterministic_sized_and_mixed() {
        for size in [1024, 4096, 16384] {
            let a = Corpus::generate(CorpusOptions::new(size, 7), 2000);
            let b = Corpus::generate(CorpusOptions::new(size, 7), 2000);
            assert!(a.iter().zip(&b).all(|(x, y)| x.payload == y.payload));
            let originals: Vec<_> = a.iter().filter(|m| m.kind == Kind::Original).collect();
            for m in &originals {
                let len = m.payload.len();
                assert!(
                    len * 100 >= size * 85 && len * 100 <= size * 115,
                    "{len} bytes for target {size}: {}",
                    String::from_utf8_lossy(&m.payload)
                );
            }
            let share = |k: Kind| a.iter().filter(|m| m.kind == k).count() as f64 / 2000.0;
            assert!((share(Kind::Resend) + share(Kind::Syndicated) - 0.20).abs() < 0.03);
            assert!((share(Kind::WirePrefix) - 0.05).abs() < 0.02);
            let now = Utc.with_ymd_and_hms(2025, 3, 4, 0, 0, 0).unwrap();
            for m in a.iter().take(200) {
                let raw = decode(&m.payload, &DecodeLimits::default()).expect("decodes");
                normalize(raw, &NormalizeOptions::default(), now).expect("normalizes");
            }
        }
    }
}
