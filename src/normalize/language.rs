//! The producer's language hint, normalized to an ISO 639-1 code: BCP 47 tags (`en-GB`,
//! `pt_BR`), ISO 639-2/3 codes of common languages (`eng`, `fre`), and English or native
//! names of common languages (`English`, `Deutsch`). Anything else is dropped (None).

/// Every ISO 639-1 code.
const ISO_639_1: &[&str] = &[
    "aa", "ab", "ae", "af", "ak", "am", "an", "ar", "as", "av", "ay", "az", "ba", "be", "bg", "bh",
    "bi", "bm", "bn", "bo", "br", "bs", "ca", "ce", "ch", "co", "cr", "cs", "cu", "cv", "cy", "da",
    "de", "dv", "dz", "ee", "el", "en", "eo", "es", "et", "eu", "fa", "ff", "fi", "fj", "fo", "fr",
    "fy", "ga", "gd", "gl", "gn", "gu", "gv", "ha", "he", "hi", "ho", "hr", "ht", "hu", "hy", "hz",
    "ia", "id", "ie", "ig", "ii", "ik", "io", "is", "it", "iu", "ja", "jv", "ka", "kg", "ki", "kj",
    "kk", "kl", "km", "kn", "ko", "kr", "ks", "ku", "kv", "kw", "ky", "la", "lb", "lg", "li", "ln",
    "lo", "lt", "lu", "lv", "mg", "mh", "mi", "mk", "ml", "mn", "mr", "ms", "mt", "my", "na", "nb",
    "nd", "ne", "ng", "nl", "nn", "no", "nr", "nv", "ny", "oc", "oj", "om", "or", "os", "pa", "pi",
    "pl", "ps", "pt", "qu", "rm", "rn", "ro", "ru", "rw", "sa", "sc", "sd", "se", "sg", "si", "sk",
    "sl", "sm", "sn", "so", "sq", "sr", "ss", "st", "su", "sv", "sw", "ta", "te", "tg", "th", "ti",
    "tk", "tl", "tn", "to", "tr", "ts", "tt", "tw", "ty", "ug", "uk", "ur", "uz", "ve", "vi", "vo",
    "wa", "wo", "xh", "yi", "yo", "za", "zh", "zu",
];

/// Three-letter codes and names of common languages (lower case) → ISO 639-1.
const ALIASES: &[(&str, &str)] = &[
    ("eng", "en"),
    ("english", "en"),
    ("fra", "fr"),
    ("fre", "fr"),
    ("french", "fr"),
    ("français", "fr"),
    ("francais", "fr"),
    ("deu", "de"),
    ("ger", "de"),
    ("german", "de"),
    ("deutsch", "de"),
    ("spa", "es"),
    ("spanish", "es"),
    ("español", "es"),
    ("espanol", "es"),
    ("ita", "it"),
    ("italian", "it"),
    ("italiano", "it"),
    ("por", "pt"),
    ("portuguese", "pt"),
    ("português", "pt"),
    ("nld", "nl"),
    ("dut", "nl"),
    ("dutch", "nl"),
    ("nederlands", "nl"),
    ("rus", "ru"),
    ("russian", "ru"),
    ("русский", "ru"),
    ("ukr", "uk"),
    ("ukrainian", "uk"),
    ("pol", "pl"),
    ("polish", "pl"),
    ("polski", "pl"),
    ("swe", "sv"),
    ("swedish", "sv"),
    ("svenska", "sv"),
    ("nor", "no"),
    ("norwegian", "no"),
    ("dan", "da"),
    ("danish", "da"),
    ("fin", "fi"),
    ("finnish", "fi"),
    ("tur", "tr"),
    ("turkish", "tr"),
    ("türkçe", "tr"),
    ("ell", "el"),
    ("gre", "el"),
    ("greek", "el"),
    ("ara", "ar"),
    ("arabic", "ar"),
    ("العربية", "ar"),
    ("heb", "he"),
    ("hebrew", "he"),
    ("fas", "fa"),
    ("per", "fa"),
    ("persian", "fa"),
    ("farsi", "fa"),
    ("hin", "hi"),
    ("hindi", "hi"),
    ("urd", "ur"),
    ("urdu", "ur"),
    ("ben", "bn"),
    ("bengali", "bn"),
    ("zho", "zh"),
    ("chi", "zh"),
    ("chinese", "zh"),
    ("中文", "zh"),
    ("jpn", "ja"),
    ("japanese", "ja"),
    ("日本語", "ja"),
    ("kor", "ko"),
    ("korean", "ko"),
    ("한국어", "ko"),
    ("vie", "vi"),
    ("vietnamese", "vi"),
    ("tha", "th"),
    ("thai", "th"),
    ("ind", "id"),
    ("indonesian", "id"),
    ("msa", "ms"),
    ("may", "ms"),
    ("malay", "ms"),
    ("swa", "sw"),
    ("swahili", "sw"),
    ("ces", "cs"),
    ("cze", "cs"),
    ("czech", "cs"),
    ("hun", "hu"),
    ("hungarian", "hu"),
    ("ron", "ro"),
    ("rum", "ro"),
    ("romanian", "ro"),
    ("cat", "ca"),
    ("catalan", "ca"),
    // Withdrawn ISO 639-1 codes still seen in the wild.
    ("iw", "he"),
    ("in", "id"),
    ("ji", "yi"),
];

/// ISO 639-1 code for a language hint, or None when it is not recognisable.
pub(crate) fn language_hint(raw: &str) -> Option<String> {
    let lower = raw.trim().to_lowercase();
    let primary = lower
        .split(['-', '_', ';', ',', ' '])
        .next()
        .unwrap_or_default();
    if let Some((_, code)) = ALIASES.iter().find(|(k, _)| *k == lower || *k == primary) {
        return Some((*code).to_owned());
    }
    ISO_639_1
        .binary_search(&primary)
        .ok()
        .map(|_| primary.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints() {
        for (raw, want) in [
            ("en", Some("en")),
            ("en-GB", Some("en")),
            (" EN_us ", Some("en")),
            ("pt-BR", Some("pt")),
            ("zh-Hant-TW", Some("zh")),
            ("English", Some("en")),
            ("Deutsch", Some("de")),
            ("fre", Some("fr")),
            ("iw", Some("he")),
            ("xx", None),
            ("klingon", None),
            ("", None),
            ("e", None),
        ] {
            assert_eq!(language_hint(raw).as_deref(), want, "{raw}");
        }
    }

    #[test]
    fn table_is_sorted_for_binary_search() {
        assert!(ISO_639_1.windows(2).all(|w| w[0] < w[1]));
        assert!(ALIASES.iter().all(|(_, c)| ISO_639_1.contains(c)));
    }
}
