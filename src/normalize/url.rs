//! Canonical article URLs and the host/registrable domain they belong to.
//!
//! Canonical form (WHATWG URL parsing, then): http or https only; scheme and host lower
//! case, IDN hosts in punycode, trailing dot of the host removed; default port, fragment and
//! userinfo dropped (credentials never reach a record or an id); dot-segments resolved;
//! percent-encoding normalized (unreserved characters decoded, hex digits upper case);
//! tracking parameters removed ([`TRACKING_PARAMS`], [`TRACKING_PREFIXES`]); remaining
//! parameters sorted by name, keeping the order of repeated names. `www.` is kept as given.
//! Scheme-less `//host/…` and `www.…` are read as https; `&amp;` as `&`. Invariant: canonical_url is
//! idempotent.

use url::{Host, Url};

use super::NormalizeError;

/// Query parameters that only track clicks or campaigns, compared case-insensitively.
pub const TRACKING_PARAMS: &[&str] = &[
    "fbclid",
    "gclid",
    "gclsrc",
    "dclid",
    "gbraid",
    "wbraid",
    "msclkid",
    "yclid",
    "twclid",
    "ttclid",
    "li_fat_id",
    "igshid",
    "mc_cid",
    "mc_eid",
    "mkt_tok",
    "ref",
    "ref_src",
    "ref_url",
    "referrer",
    "cmp",
    "cmpid",
    "xtor",
    "_ga",
    "_gl",
    "_hsenc",
    "_hsmi",
    "__hstc",
    "__hssc",
    "__hsfp",
    "hsctatracking",
    "ocid",
    "ito",
    "s_cid",
    "smid",
    "sr_share",
    "spm",
    "vero_id",
    "oly_anon_id",
    "oly_enc_id",
    "rb_clickid",
    "wt.mc_id",
    "wt_mc",
    "ns_mchannel",
    "ns_source",
    "ns_campaign",
    "ns_linkname",
    "ns_fee",
    "at_medium",
    "at_campaign",
    "at_custom1",
    "at_custom2",
    "at_custom3",
    "at_custom4",
];

/// Name prefixes of tracking parameters (`utm_source`, `utm_medium`, …).
pub const TRACKING_PREFIXES: &[&str] = &["utm_", "pk_", "mtm_"];

/// URLs longer than this are refused: no publisher needs them and they bloat every record.
const MAX_URL_BYTES: usize = 16 * 1024;

fn invalid(input: &str, why: impl Into<String>) -> NormalizeError {
    NormalizeError::InvalidUrl {
        url: input.chars().take(200).collect(),
        why: why.into(),
    }
}

/// Parses `input` as an absolute http(s) URL, accepting `//host/…` and `www.…` as https.
/// `&amp;` is read as `&`: URLs copied out of HTML often keep the escaped separator.
fn parse_web_url(input: &str) -> Result<Url, NormalizeError> {
    let unescaped = input.replace("&amp;", "&");
    let trimmed = unescaped.trim();
    if trimmed.is_empty() {
        return Err(invalid(input, "empty"));
    }
    if trimmed.len() > MAX_URL_BYTES {
        return Err(invalid(input, format!("longer than {MAX_URL_BYTES} bytes")));
    }
    let parsed = if trimmed.starts_with("//") {
        Url::parse(&format!("https:{trimmed}"))
    } else if trimmed
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("www."))
    {
        Url::parse(&format!("https://{trimmed}"))
    } else {
        Url::parse(trimmed)
    };
    let url = parsed.map_err(|e| invalid(input, e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(
            input,
            format!("scheme {:?} is not http or https", url.scheme()),
        ));
    }
    match url.host() {
        None => Err(invalid(input, "no host")),
        Some(Host::Domain(d)) if d.trim_end_matches('.').is_empty() => {
            Err(invalid(input, "empty host"))
        }
        Some(_) => Ok(url),
    }
}

/// Canonical form of an absolute http(s) URL; anything else is bad data.
pub fn canonical_url(input: &str) -> Result<String, NormalizeError> {
    canonical(input).map(Into::into)
}

/// The canonical URL with its host (lower case, punycode) and registrable domain.
pub(crate) fn canonical_with_host(
    input: &str,
) -> Result<(String, Option<String>, Option<String>), NormalizeError> {
    let url = canonical(input)?;
    let (host, domain) = split_host(&url);
    Ok((url.into(), host, domain))
}

fn canonical(input: &str) -> Result<Url, NormalizeError> {
    let mut url = parse_web_url(input)?;
    if let Some(Host::Domain(d)) = url.host() {
        if d.ends_with('.') {
            let host = d.trim_end_matches('.').to_owned();
            url.set_host(Some(&host))
                .map_err(|e| invalid(input, e.to_string()))?;
        }
    }
    // Setting these cannot fail on an http(s) URL with a host.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.set_fragment(None);

    let path = normalize_percent(url.path());
    if path != url.path() {
        url.set_path(&path);
    }
    let query = url.query().map(canonical_query);
    url.set_query(query.as_deref().filter(|q| !q.is_empty()));
    Ok(url)
}

/// Drops tracking and empty parameters, normalizes percent-encoding, sorts by name.
fn canonical_query(query: &str) -> String {
    let mut params: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(normalize_percent)
        .filter_map(|p| {
            let name = p.split('=').next().unwrap_or_default();
            let key = decoded_name(name);
            (!key.is_empty() && !is_tracking(&key)).then_some((key, p))
        })
        .collect();
    // Stable: repeated names keep their relative order (`a=2&a=1` may mean a list).
    params.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = String::with_capacity(query.len());
    for (i, (_, p)) in params.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(p);
    }
    out
}

/// Lower-cased, percent-decoded parameter name, `+` read as a space.
fn decoded_name(name: &str) -> String {
    let bytes: Vec<u8> = url::form_urlencoded::parse(name.as_bytes())
        .next()
        .map(|(k, _)| k.into_owned().into_bytes())
        .unwrap_or_default();
    String::from_utf8_lossy(&bytes).to_lowercase()
}

fn is_tracking(name: &str) -> bool {
    TRACKING_PARAMS.contains(&name) || TRACKING_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// `%XX` escapes of unreserved characters (letters, digits, `-._~`) decoded; other escapes
/// with upper-case hex digits; a stray `%` encoded as `%25` (otherwise decoding `%3%30`
/// would create a new escape and the result would change on every pass).
fn normalize_percent(s: &str) -> String {
    if !s.contains('%') {
        return s.to_owned();
    }
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let (h, l) = (bytes[i + 1], bytes[i + 2]);
            if let (Some(h), Some(l)) = (hex_val(h), hex_val(l)) {
                let v = h * 16 + l;
                if v.is_ascii_alphanumeric() || matches!(v, b'-' | b'.' | b'_' | b'~') {
                    out.push(v as char);
                } else {
                    out.push('%');
                    out.push(hex_digit(h));
                    out.push(hex_digit(l));
                }
                i += 3;
                continue;
            }
        }
        if bytes[i] == b'%' {
            out.push_str("%25");
            i += 1;
            continue;
        }
        // Copy one whole character (the input is a str, so this is a char boundary).
        let ch_len = utf8_len(bytes[i]);
        out.push_str(&s[i..i + ch_len]);
        i += ch_len;
    }
    out
}

fn utf8_len(first: u8) -> usize {
    match first {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    }
}

fn hex_val(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

fn hex_digit(v: u8) -> char {
    char::from_digit(u32::from(v), 16)
        .unwrap_or('0')
        .to_ascii_uppercase()
}

fn split_host(u: &Url) -> (Option<String>, Option<String>) {
    match u.host() {
        Some(Host::Domain(d)) => {
            let host = d.trim_end_matches('.').to_owned();
            let domain = registrable_domain(&host);
            (Some(host), domain)
        }
        Some(Host::Ipv4(ip)) => (Some(ip.to_string()), None),
        Some(Host::Ipv6(ip)) => (Some(format!("[{ip}]")), None),
        None => (None, None),
    }
}

/// Registrable domain by the public suffix list (compiled in): `news.bbc.co.uk` →
/// `bbc.co.uk`. None for a host that is itself a public suffix or has a single label.
pub(crate) fn registrable_domain(host: &str) -> Option<String> {
    if !host.contains('.') {
        return None;
    }
    psl::domain_str(host).map(str::to_owned)
}

/// Host and domain of a source given as a URL or a bare domain (`reuters.com`). Invalid
/// values give nothing: the source URL is context, not the article's identity.
pub(crate) fn source_host_and_domain(source: &str) -> (Option<String>, Option<String>) {
    let s = source.trim();
    let parsed = if s.contains("://") || s.starts_with("//") || s.starts_with("www.") {
        parse_web_url(s).ok()
    } else if !s.is_empty() && !s.contains(char::is_whitespace) && s.contains('.') {
        parse_web_url(&format!("https://{s}")).ok()
    } else {
        None
    };
    parsed.map(|u| split_host(&u)).unwrap_or((None, None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn canon(s: &str) -> String {
        canonical_url(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn canonical_form() {
        let cases = [
            (
                "HTTPS://WWW.Example.COM:443/a/./b/../c?utm_source=x&b=2&a=1&fbclid=z#frag",
                "https://www.example.com/a/c?a=1&b=2",
            ),
            ("http://example.com:80", "http://example.com/"),
            ("http://example.com:8080/x", "http://example.com:8080/x"),
            ("https://example.com/%7euser/%e2%82%ac?q=%41%2f", "https://example.com/~user/%E2%82%AC?q=A%2F"),
            ("https://example.com/?UTM_Medium=a&Ref=b&gclid=c&msclkid=d&mc_cid=e&mc_eid=f&igshid=g&cmp=h&xtor=i&_ga=j", "https://example.com/"),
            ("https://example.com/?b=1&a=3&b=0&&a=2", "https://example.com/?a=3&a=2&b=1&b=0"),
            ("https://user:secret@example.com/x", "https://example.com/x"),
            ("https://bücher.example/straße", "https://xn--bcher-kva.example/stra%C3%9Fe"),
            ("https://example.com./x", "https://example.com/x"),
            ("//cdn.example.com/x", "https://cdn.example.com/x"),
            ("www.example.com/x", "https://www.example.com/x"),
            ("  https://example.com/a b  ", "https://example.com/a%20b"),
            ("https://example.com/A/Path/", "https://example.com/A/Path/"),
            ("https://example.com/?q=a+b&q2=%20", "https://example.com/?q=a+b&q2=%20"),
            ("https://example.com/p?b=2&amp;a=1&amp;utm_medium=x", "https://example.com/p?a=1&b=2"),
            ("https://example.com/100%/?q=%3%30&r=50%", "https://example.com/100%25/?q=%2530&r=50%25"),
        ];
        for (input, want) in cases {
            assert_eq!(canon(input), want, "{input}");
            assert_eq!(canon(want), want, "idempotent: {want}");
        }
    }

    #[test]
    fn rejects_non_web_and_relative_urls() {
        for bad in [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "file:///etc/passwd",
            "data:text/html,<script>",
            "mailto:a@example.com",
            "ftp://example.com/x",
            "/relative/path",
            "relative/path",
            "https://",
            "http://.",
            "",
            "   ",
            "http://exa mple.com/",
        ] {
            let e = canonical_url(bad).unwrap_err();
            assert_eq!(e.code(), "invalid_url", "{bad}");
        }
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_BYTES));
        assert!(canonical_url(&long).is_err());
    }

    #[test]
    fn hosts_and_registrable_domains() {
        for (url, host, domain) in [
            (
                "https://news.bbc.co.uk/x",
                Some("news.bbc.co.uk"),
                Some("bbc.co.uk"),
            ),
            (
                "https://www.reuters.com/x",
                Some("www.reuters.com"),
                Some("reuters.com"),
            ),
            (
                "https://a.b.example.com.au/",
                Some("a.b.example.com.au"),
                Some("example.com.au"),
            ),
            (
                "https://user.github.io/",
                Some("user.github.io"),
                Some("user.github.io"),
            ),
            (
                "https://bücher.de/",
                Some("xn--bcher-kva.de"),
                Some("xn--bcher-kva.de"),
            ),
            ("http://192.0.2.1/x", Some("192.0.2.1"), None),
            ("http://localhost/x", Some("localhost"), None),
        ] {
            let (_, h, d) = canonical_with_host(url).unwrap();
            assert_eq!((h.as_deref(), d.as_deref()), (host, domain), "{url}");
        }
        assert_eq!(
            source_host_and_domain("reuters.com"),
            (Some("reuters.com".into()), Some("reuters.com".into()))
        );
        assert_eq!(
            source_host_and_domain("https://www.theguardian.com/"),
            (
                Some("www.theguardian.com".into()),
                Some("theguardian.com".into())
            )
        );
        assert_eq!(source_host_and_domain("The Guardian"), (None, None));
        assert_eq!(source_host_and_domain("javascript:x.y"), (None, None));
    }

    proptest! {
        #[test]
        fn canonical_url_is_idempotent(
            host in "[a-zA-Z0-9ü-]{1,12}\\.(com|co\\.uk|de|example)",
            path in "(/[a-zA-Z0-9%._~é -]{0,8}){0,4}",
            query in "([a-zA-Z_%0-9]{1,6}=[a-zA-Z0-9%+ ]{0,5}&?){0,4}",
        ) {
            let input = format!("https://{host}{path}?{query}#f");
            if let Ok(once) = canonical_url(&input) {
                prop_assert_eq!(canonical_url(&once), Ok(once.clone()));
                prop_assert!(!once.contains('#'));
            }
        }

        #[test]
        fn never_panics(s in "\\PC{0,80}") {
            let _ = canonical_url(&s);
            let _ = source_host_and_domain(&s);
        }
    }
}
