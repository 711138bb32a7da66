//! Conservative boilerplate removal: site suffixes on titles, and in bodies a leading
//! caption or bullet repeating the title, repeated paragraphs, stand-alone "Advertisement"
//! markers, and trailers ("Share this article", "Follow us on …", "© 2019 …",
//! "Read more: …") when they stand alone at the end. Anything else is content and stays.
//!
//! Invariant: applying these rules to their own output removes nothing more.

use std::collections::HashMap;

use super::text::{fold, fold_weight, is_bullet_symbol};

/// Separators between a headline and a site name: "Headline - BBC News".
const TITLE_SEPARATORS: &[&str] = &[" - ", " – ", " — ", " | ", " :: ", " · ", " • ", " // "];

/// Words a site name may add to its domain label: "BBC News" for bbc.co.uk.
const SITE_NAME_EXTRAS: &[&str] = &[
    "", "news", "online", "com", "media", "newsroom", "live", "tv",
];

/// Context for recognising a site name.
pub(crate) struct Site<'a> {
    pub name: Option<&'a str>,
    pub host: Option<&'a str>,
    pub domain: Option<&'a str>,
}

/// Removes trailing site names (" - BBC News", " | Reuters") that match the source name,
/// host or domain. The headline itself is never emptied.
pub(crate) fn strip_site_suffix(title: &str, site: &Site<'_>) -> String {
    let mut t = title;
    // Every separator starts with a space: the last one is at the last space that opens one.
    let last_separator = |t: &str| {
        t.rmatch_indices(' ').find_map(|(pos, _)| {
            TITLE_SEPARATORS
                .iter()
                .find(|sep| t[pos..].starts_with(*sep))
                .map(|sep| (pos, *sep))
        })
    };
    while let Some((pos, sep)) = last_separator(t) {
        let (head, suffix) = (&t[..pos], &t[pos + sep.len()..]);
        if head.trim().is_empty() || !is_site_name(suffix, site) {
            break;
        }
        t = head.trim_end();
    }
    t.to_owned()
}

fn is_site_name(suffix: &str, site: &Site<'_>) -> bool {
    let folded = fold(suffix);
    if folded.is_empty() {
        return false;
    }
    let compact: String = folded.split(' ').collect();
    if site
        .name
        .is_some_and(|n| fold(n).split(' ').collect::<String>() == compact)
    {
        return true;
    }
    [site.host, site.domain].into_iter().flatten().any(|h| {
        let h = h.strip_prefix("www.").unwrap_or(h);
        if compact == h.replace(['.', '-'], "") {
            return true;
        }
        let label = h.split('.').next().unwrap_or_default().replace('-', "");
        let bare = label.strip_prefix("the").unwrap_or(&label);
        !label.is_empty()
            && SITE_NAME_EXTRAS.iter().any(|extra| {
                compact
                    .strip_suffix(extra)
                    .is_some_and(|c| c == label || (!bare.is_empty() && c == bare))
            })
    })
}

/// Paragraphs lighter than this ([`fold_weight`], about three words) may repeat
/// legitimately ("Yes.", "* * *").
const MIN_DEDUP_WEIGHT: usize = 16;

/// Trailers are short; a long final paragraph is content whatever it starts with.
const MAX_TRAILER_CHARS: usize = 200;

/// At most this many trailing paragraphs are taken as trailers.
const MAX_TRAILERS: usize = 8;

/// Cleans the paragraphs of a body (each already whitespace-normalized, non-empty).
/// `titles` are the title before and after suffix removal.
pub(crate) fn clean_body<'a>(paragraphs: Vec<&'a str>, titles: &[&str]) -> Vec<&'a str> {
    // Paragraphs by weight; only equal weights are folded and compared.
    let mut by_weight: HashMap<usize, Vec<&'a str>> = HashMap::with_capacity(paragraphs.len());
    let mut kept: Vec<&'a str> = Vec::with_capacity(paragraphs.len());
    for p in paragraphs {
        if p.eq_ignore_ascii_case("advertisement") {
            continue;
        }
        let weight = fold_weight(p);
        if weight >= MIN_DEDUP_WEIGHT {
            let same_weight = by_weight.entry(weight).or_default();
            if !same_weight.is_empty() {
                let folded = fold(p);
                if same_weight.iter().any(|q| fold(q) == folded) {
                    continue;
                }
            }
            same_weight.push(p);
        }
        kept.push(p);
    }
    // A leading caption, bullet or repeated headline (folded only when weights match).
    let title_weights: Vec<usize> = titles.iter().map(|t| fold_weight(t)).collect();
    let mut folded_titles: Option<Vec<String>> = None;
    while let Some(first) = kept.first() {
        let caption = first.trim_start_matches(|c: char| {
            is_bullet_symbol(c) || c.is_whitespace() || matches!(c, '*' | '·' | '-' | '–' | '—')
        });
        let repeats_title = title_weights.contains(&fold_weight(caption)) && {
            let folded = fold(caption);
            !folded.is_empty()
                && folded_titles
                    .get_or_insert_with(|| titles.iter().map(|t| fold(t)).collect())
                    .contains(&folded)
        };
        if repeats_title {
            kept.remove(0);
        } else {
            break;
        }
    }
    let mut trailers = 0;
    while trailers < MAX_TRAILERS && kept.last().is_some_and(|p| is_trailer(p)) {
        kept.pop();
        trailers += 1;
    }
    kept
}

/// "Share this article", "Follow us on …", "© 2019 …", "Read more: …" and their kin.
fn is_trailer(p: &str) -> bool {
    if p.chars().count() > MAX_TRAILER_CHARS {
        return false;
    }
    let lower = p.to_lowercase();
    let l = lower.as_str();
    let starts = |prefixes: &[&str]| prefixes.iter().any(|x| l.starts_with(x));
    starts(&[
        "share this",
        "share on ",
        "share:",
        "follow us",
        "follow @",
        "read more:",
        "read more at",
        "read more on",
        "related:",
        "see also:",
        "sign up for our",
        "subscribe to our",
        "click here to subscribe",
        "©",
        "(c) ",
    ]) || matches!(
        l.trim_end_matches(['.', '!', ':', '…']),
        "share" | "read more" | "advertisement" | "all rights reserved"
    ) || (l.starts_with("copyright")
        && l["copyright".len()..]
            .trim_start()
            .starts_with(|c: char| c.is_ascii_digit() || c == '©' || c == '('))
        || (l.contains("all rights reserved") && l.chars().count() <= 120)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site<'a>(name: Option<&'a str>, domain: Option<&'a str>) -> Site<'a> {
        Site {
            name,
            host: domain,
            domain,
        }
    }

    #[test]
    fn site_suffix_removed_only_when_it_matches() {
        let bbc = site(None, Some("bbc.co.uk"));
        assert_eq!(
            strip_site_suffix("Storm hits coast - BBC News", &bbc),
            "Storm hits coast"
        );
        let reuters = site(Some("Reuters"), None);
        assert_eq!(
            strip_site_suffix("Markets rally | Reuters", &reuters),
            "Markets rally"
        );
        assert_eq!(
            strip_site_suffix("Markets rally | Reuters | Reuters", &reuters),
            "Markets rally"
        );
        let guardian = site(None, Some("theguardian.com"));
        assert_eq!(
            strip_site_suffix("Rain again – The Guardian", &guardian),
            "Rain again"
        );
        assert_eq!(
            strip_site_suffix("Rain again | Guardian", &guardian),
            "Rain again"
        );
        let ex = site(Some("Example Times"), Some("example.com"));
        assert_eq!(strip_site_suffix("A - b — Example.com", &ex), "A - b");
        // Not the source: kept.
        assert_eq!(
            strip_site_suffix("Storm hits coast - BBC News", &reuters),
            "Storm hits coast - BBC News"
        );
        assert_eq!(
            strip_site_suffix("Jazz - a history", &bbc),
            "Jazz - a history"
        );
        // Never empties the title.
        assert_eq!(strip_site_suffix(" | Reuters", &reuters), " | Reuters");
        assert_eq!(strip_site_suffix("Reuters", &reuters), "Reuters");
    }

    fn body(ps: &[&str], title: &str) -> Vec<String> {
        clean_body(ps.to_vec(), &[title])
            .into_iter()
            .map(String::from)
            .collect()
    }

    #[test]
    fn leading_title_caption_removed() {
        let t = "Harbour opens ferry line";
        assert_eq!(
            body(&["• Harbour opens ferry line", "Content here."], t),
            ["Content here."]
        );
        assert_eq!(
            body(&["* Harbour opens  Ferry line!", "Content here."], t),
            ["Content here."]
        );
        assert_eq!(
            body(&["Harbour opens ferry line", "Content here."], t),
            ["Content here."]
        );
        // A bullet that is not the title is content.
        assert_eq!(
            body(&["• Harbour opens", "Content."], t),
            ["• Harbour opens", "Content."]
        );
        // The title repeated later in the body is content too.
        assert_eq!(
            body(&["Lede.", "Harbour opens ferry line"], t),
            ["Lede.", "Harbour opens ferry line"]
        );
    }

    #[test]
    fn repeated_paragraphs_removed_short_ones_kept() {
        let long = "The council voted to extend the ferry line to the islands.";
        assert_eq!(
            body(
                &[
                    long,
                    "Yes.",
                    "Yes.",
                    long,
                    "“The council voted to extend the ferry line to the islands”"
                ],
                "T"
            ),
            [long, "Yes.", "Yes."]
        );
    }

    #[test]
    fn trailers_removed_only_at_the_end() {
        let ps = [
            "Read more: the report mentioned earlier is linked below, say officials.",
            "Real content paragraph one.",
            "Follow us on Twitter and Facebook",
            "Share this article",
            "© 2019 Example Media. All rights reserved.",
            "Read more: Why ferries matter",
        ];
        assert_eq!(body(&ps, "T"), &ps[..2]);
        let content_end = [
            "Copyright law changed in 2019, the minister said.",
            "Share prices fell 3% on Monday.",
        ];
        assert_eq!(body(&content_end, "T"), content_end);
        assert_eq!(
            body(&["Advertisement", "Text.", "ADVERTISEMENT"], "T"),
            ["Text."]
        );
    }

    #[test]
    fn only_boilerplate_leaves_nothing() {
        let ps = [
            "Share this article",
            "Follow us on Instagram",
            "© 2020 Example",
        ];
        assert!(body(&ps, "T").is_empty());
    }
}
