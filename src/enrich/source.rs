//! Publisher names by domain (`data/publishers.tsv`, extendable from a file), for records
//! whose input does not name its source.

use std::collections::HashMap;

use anyhow::bail;

use super::countries::data_lines;

const SHIPPED: &str = include_str!("../../data/publishers.tsv");

#[derive(Debug, Default)]
pub struct PublisherMap {
    by_domain: HashMap<String, String>,
}

impl PublisherMap {
    pub fn shipped() -> anyhow::Result<Self> {
        let mut map = PublisherMap::default();
        map.extend_from_tsv(SHIPPED)?;
        Ok(map)
    }

    /// Adds `domain<TAB>name` lines; later entries replace earlier ones.
    pub fn extend_from_tsv(&mut self, text: &str) -> anyhow::Result<()> {
        for (n, line) in data_lines(text) {
            let Some((domain, name)) = line.split_once('\t') else {
                bail!("line {n}: expected domain<TAB>name");
            };
            let (domain, name) = (domain.trim().to_ascii_lowercase(), name.trim());
            if domain.is_empty() || name.is_empty() || domain.contains(char::is_whitespace) {
                bail!("line {n}: expected domain<TAB>name");
            }
            self.by_domain.insert(domain, name.to_owned());
        }
        Ok(())
    }

    /// The most specific entry for `host`: the host itself, then with leading labels
    /// removed (down to two labels); the registrable `domain` when there is no host.
    pub fn lookup(&self, host: Option<&str>, domain: Option<&str>) -> Option<&str> {
        let host = host.or(domain)?.trim_end_matches('.').to_ascii_lowercase();
        let mut rest = host.as_str();
        loop {
            if let Some(name) = self.by_domain.get(rest) {
                return Some(name);
            }
            match rest.split_once('.') {
                Some((_, tail)) if tail.contains('.') => rest = tail,
                _ => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_specific_entry_wins() {
        let map = PublisherMap::shipped().unwrap();
        assert_eq!(
            map.lookup(Some("www.bbc.co.uk"), Some("bbc.co.uk")),
            Some("BBC")
        );
        assert_eq!(
            map.lookup(Some("folha.uol.com.br"), Some("uol.com.br")),
            Some("Folha de S.Paulo")
        );
        assert_eq!(map.lookup(None, Some("parstoday.ir")), Some("Pars Today"));
        assert_eq!(map.lookup(Some("example.com"), Some("example.com")), None);
        assert_eq!(map.lookup(None, None), None);
    }

    #[test]
    fn extension_overrides_and_validates() {
        let mut map = PublisherMap::shipped().unwrap();
        map.extend_from_tsv("# local\nexample.com\tExample News\nbbc.co.uk\tBBC News\n")
            .unwrap();
        assert_eq!(
            map.lookup(Some("news.example.com"), Some("example.com")),
            Some("Example News")
        );
        assert_eq!(map.lookup(Some("bbc.co.uk"), None), Some("BBC News"));
        assert!(map.extend_from_tsv("no tab here\n").is_err());
    }
}
