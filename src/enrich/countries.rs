//! Countries mentioned in an article: ISO 3166-1 alpha-2 code, English short name and the
//! number of mentions, from names, short forms, demonyms, capitals and a few metonyms
//! ("Kremlin", "White House") listed in `data/countries/*.tsv`. Codes are checked against
//! the `celes` ISO 3166-1 table when the tables are loaded.
//!
//! Ambiguous words are *weak* forms (`~` in the data): they count only when the same
//! country is also mentioned by a non-weak form. In particular "Georgia" and "Georgian"
//! stand for the country (GE) only next to "Tbilisi" or "Republic of Georgia", because in
//! English-language news the US state is the more frequent reading; likewise "Jordan" and
//! "Chad" (also given names), "Korea" and "Korean" alone (KR only when South Korea is
//! named), "Washington" (US only when the US is named otherwise). "Congo" alone is taken
//! as the Democratic Republic of the Congo (CD), the larger and more reported of the two.

use std::collections::HashMap;

use anyhow::{bail, Context};

use super::gazetteer::{Builder, Hit, Target};
use crate::model::Country;

const EN: &str = include_str!("../../data/countries/en.tsv");
const BLOCKERS: &str = include_str!("../../data/countries/blockers.txt");
/// Tables of other languages, used only for articles in that language.
const OTHER: &[(&str, &str)] = &[
    ("de", include_str!("../../data/countries/de.tsv")),
    ("fr", include_str!("../../data/countries/fr.tsv")),
    ("es", include_str!("../../data/countries/es.tsv")),
    ("it", include_str!("../../data/countries/it.tsv")),
    ("pt", include_str!("../../data/countries/pt.tsv")),
];

#[derive(Debug)]
pub struct CountryTable {
    /// `(alpha-2, display name)`, indexed by `Target::Country`.
    countries: Vec<(String, String)>,
}

impl CountryTable {
    /// Loads the shipped tables and adds their forms to the automaton builder.
    pub fn load(builder: &mut Builder) -> anyhow::Result<Self> {
        let mut table = CountryTable {
            countries: Vec::new(),
        };
        let mut index: HashMap<String, u16> = HashMap::new();
        for (lang, text) in
            std::iter::once((None, EN)).chain(OTHER.iter().map(|(l, t)| (Some(*l), *t)))
        {
            let file = lang.unwrap_or("en");
            for (n, line) in data_lines(text) {
                table
                    .add_row(builder, &mut index, line, lang)
                    .with_context(|| format!("data/countries/{file}.tsv line {n}"))?;
            }
        }
        for (n, line) in data_lines(BLOCKERS) {
            builder
                .add(line, Target::Block, None)
                .with_context(|| format!("data/countries/blockers.txt line {n}"))?;
        }
        Ok(table)
    }

    fn add_row(
        &mut self,
        builder: &mut Builder,
        index: &mut HashMap<String, u16>,
        line: &str,
        lang: Option<&str>,
    ) -> anyhow::Result<()> {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() != 4 {
            bail!("expected 4 tab-separated columns, found {}", cols.len());
        }
        let code = cols[0].trim();
        let country = celes::Country::from_alpha2(code)
            .map_err(|_| anyhow::anyhow!("{code:?} is not an ISO 3166-1 alpha-2 code"))?;
        let id = match index.get(code) {
            Some(id) => *id,
            None => {
                if lang.is_some() {
                    bail!("{code} is missing from the English table");
                }
                let name = cols[1]
                    .split('|')
                    .next()
                    .map(|n| n.trim_start_matches('~').trim())
                    .filter(|n| !n.is_empty())
                    .unwrap_or(country.long_name);
                let id = u16::try_from(self.countries.len())?;
                self.countries
                    .push((country.alpha2.to_owned(), name.to_owned()));
                index.insert(code.to_owned(), id);
                id
            }
        };
        for form in cols[1..].iter().flat_map(|c| c.split('|')) {
            if !form.trim().is_empty() {
                builder.add(form, Target::Country(id), lang)?;
            }
        }
        Ok(())
    }

    /// Countries among the hits, most mentioned first (then by first mention). A country
    /// found only through weak forms is left out.
    pub fn collect(&self, hits: &[Hit]) -> Vec<Country> {
        // (mentions, strong mentions, first position) per country index
        let mut seen: Vec<(u16, u32, u32, usize)> = Vec::new();
        for h in hits {
            let Target::Country(id) = h.target else {
                continue;
            };
            match seen.iter_mut().find(|s| s.0 == id) {
                Some(s) => {
                    s.1 += 1;
                    s.2 += u32::from(!h.weak);
                }
                None => seen.push((id, 1, u32::from(!h.weak), h.start)),
            }
        }
        seen.retain(|s| s.2 > 0);
        seen.sort_by(|a, b| b.1.cmp(&a.1).then(a.3.cmp(&b.3)));
        seen.into_iter()
            .map(|(id, mentions, _, _)| {
                let (code, name) = &self.countries[usize::from(id)];
                Country {
                    code: code.clone(),
                    name: name.clone(),
                    mentions,
                }
            })
            .collect()
    }
}

/// Non-empty, non-comment lines with their 1-based line numbers.
pub(crate) fn data_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(text: &str, lang: Option<&str>) -> Vec<(String, u32)> {
        let mut b = Builder::default();
        let table = CountryTable::load(&mut b).unwrap();
        let g = b.build().unwrap();
        table
            .collect(&g.find(text, lang))
            .into_iter()
            .map(|c| (c.code, c.mentions))
            .collect()
    }

    fn codes(text: &str, lang: Option<&str>) -> Vec<String> {
        let mut c: Vec<String> = find(text, lang).into_iter().map(|c| c.0).collect();
        c.sort();
        c
    }

    #[test]
    fn shipped_tables_load_with_valid_codes() {
        let mut b = Builder::default();
        let table = CountryTable::load(&mut b).unwrap();
        assert!(table.countries.len() > 190);
        assert!(table
            .countries
            .iter()
            .any(|(c, n)| c == "KR" && n == "South Korea"));
    }

    #[test]
    fn short_forms_demonyms_and_capitals() {
        assert_eq!(
            find(
                "South Korea and the U.S. met in Seoul; South Korean and US officials.",
                None
            ),
            vec![("KR".into(), 3), ("US".into(), 2)]
        );
        assert_eq!(
            codes("Britain, the UK and Japanese and Pyongyang", None),
            ["GB", "JP", "KP"]
        );
        assert_eq!(codes("Tokyo-Seoul ties", None), ["JP", "KR"]);
    }

    #[test]
    fn ambiguous_words() {
        assert!(codes("They roast turkey and talk to us.", None).is_empty());
        assert_eq!(
            codes("Atlanta, Georgia, and New Mexico", None),
            Vec::<String>::new()
        );
        assert_eq!(codes("Georgia's president spoke in Tbilisi", None), ["GE"]);
        assert_eq!(codes("Michael Jordan played in Chicago", None), ["US"]);
        assert_eq!(
            codes("Latin America and South American trade", None),
            Vec::<String>::new()
        );
    }

    #[test]
    fn other_languages_only_in_their_articles() {
        assert_eq!(
            codes("le gouvernement français et l'Allemagne", Some("fr")),
            ["DE", "FR"]
        );
        assert_eq!(
            codes("le gouvernement français", Some("en")),
            Vec::<String>::new()
        );
        assert_eq!(codes("die russischen Truppen", Some("de")), ["RU"]);
    }
}
