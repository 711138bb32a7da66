//! Typed settings, layered: built-in defaults (`config/default.toml` compiled in) <
//! `./config/default.toml` < `--config FILE` < `NEWSFLOW__SECTION__KEY` environment variables
//! < command-line overrides. Unknown keys are rejected; `validate()` explains what is wrong.
//! Secrets (passwords, keys, tokens) never appear in `Debug` output or `redacted()`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

/// The compiled-in defaults: the same file the repository ships as `config/default.toml`.
pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");

/// A librdkafka property value: written flat (`"a.b" = 1`) or nested (`[a] b = 1`).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(untagged)]
pub enum PropValue {
    // Strings first: "007" must stay "007", not become 7.
    Str(String),
    Bool(bool),
    Int(i64),
    Float(f64),
    Map(BTreeMap<String, PropValue>),
}

pub type Properties = BTreeMap<String, PropValue>;

#[derive(Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaSettings {
    pub brokers: String,
    pub input_topic: String,
    pub output_topic: String,
    pub dlq_topic: String,
    pub duplicates_topic: String,
    pub group_id: String,
    pub create_topics: bool,
    pub topic_partitions: i32,
    pub topic_replication: i32,
    pub statistics_interval_ms: u64,
    pub properties: Properties,
    pub consumer_properties: Properties,
    pub producer_properties: Properties,
    pub property_files: Properties,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSettings {
    pub listen: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ProcessingSettings {
    pub workers: usize,
    pub max_in_flight_messages: usize,
    pub max_in_flight_bytes: usize,
    pub drain_timeout_secs: u64,
    pub max_message_bytes: usize,
    pub max_json_depth: usize,
    pub retry_backoff_min_ms: u64,
    pub retry_backoff_max_ms: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NormalizeSettings {
    pub default_utc_offset_minutes: i32,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DedupSettings {
    pub window_hours: u64,
    pub max_entries: usize,
    pub rebuild_timeout_secs: u64,
    pub handoff_timeout_secs: u64,
    pub revisions: crate::dedup::RevisionPolicy,
    pub min_words_for_near: usize,
    pub near_threshold: f64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EnrichSettings {
    pub max_keywords: usize,
    pub languages: Vec<String>,
    pub min_language_confidence: f64,
    pub publishers_file: String,
    pub organizations_file: String,
    pub scan_body_bytes: usize,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub format: LogFormat,
    pub level: String,
}

#[derive(Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub kafka: KafkaSettings,
    pub http: HttpSettings,
    pub processing: ProcessingSettings,
    pub normalize: NormalizeSettings,
    pub dedup: DedupSettings,
    pub enrich: EnrichSettings,
    pub log: LogSettings,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl std::fmt::Debug for KafkaSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KafkaSettings { .. redacted, see Settings::redacted() }")
    }
}

/// Where settings come from, besides the built-in defaults and the environment.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    /// Read `./config/default.toml` when it exists (off in tests).
    pub local_default: bool,
    pub file: Option<PathBuf>,
    /// `key=value` overrides, dotted keys (`kafka.brokers=host:9092`); highest precedence.
    pub overrides: Vec<(String, String)>,
    /// Environment variables to read instead of the process environment (tests).
    pub env: Option<BTreeMap<String, String>>,
}

/// True for property names whose values must never be printed.
pub fn is_secret(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "password",
        "secret",
        "token",
        "jaas",
        "ssl.key.pem",
        "keystore",
        "private",
    ]
    .iter()
    .any(|s| n.contains(s))
}

/// Flattens nested property maps into librdkafka's dotted names.
pub fn flatten(props: &Properties) -> BTreeMap<String, String> {
    fn walk(prefix: &str, v: &PropValue, out: &mut BTreeMap<String, String>) {
        let s = match v {
            PropValue::Map(m) => {
                for (k, v) in m {
                    walk(&format!("{prefix}.{k}"), v, out);
                }
                return;
            }
            PropValue::Bool(b) => b.to_string(),
            PropValue::Int(i) => i.to_string(),
            PropValue::Float(x) => x.to_string(),
            PropValue::Str(s) => s.clone(),
        };
        out.insert(prefix.to_owned(), s);
    }
    let mut out = BTreeMap::new();
    for (k, v) in props {
        walk(k, v, &mut out);
    }
    out
}

impl Settings {
    /// Loads and validates settings from every layer.
    pub fn load(sources: &Sources) -> anyhow::Result<Settings> {
        use config::{Config, Environment, File, FileFormat};
        let mut b = Config::builder().add_source(File::from_str(DEFAULT_TOML, FileFormat::Toml));
        if sources.local_default && Path::new("config/default.toml").exists() {
            b = b.add_source(File::new("config/default.toml", FileFormat::Toml));
        }
        if let Some(path) = &sources.file {
            if !path.exists() {
                bail!("configuration file {} does not exist", path.display());
            }
            b = b.add_source(File::from(path.as_path()).format(FileFormat::Toml));
        }
        // No `try_parsing`: values stay strings (a numeric SASL password must not become a
        // number); typed settings convert them when deserializing.
        let env = Environment::with_prefix("NEWSFLOW")
            .prefix_separator("__")
            .separator("__");
        let env = match &sources.env {
            Some(vars) => env.source(Some(vars.clone().into_iter().collect())),
            None => env,
        };
        b = b.add_source(env);
        for (k, v) in &sources.overrides {
            b = b
                .set_override(k.as_str(), v.as_str())
                .with_context(|| format!("override {k}"))?;
        }
        let cfg = b.build().context("reading configuration")?;
        let settings: Settings = cfg
            .try_deserialize()
            .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
        settings.validate()?;
        Ok(settings)
    }

    /// Checks values that parse but make no sense, naming the key.
    pub fn validate(&self) -> anyhow::Result<()> {
        let k = &self.kafka;
        let mut problems = Vec::new();
        if k.brokers.trim().is_empty() {
            problems.push(
                "kafka.brokers is empty (use \"embedded\" or host:port[,host:port])".to_owned(),
            );
        }
        for (key, topic, required) in [
            ("kafka.input_topic", &k.input_topic, true),
            ("kafka.output_topic", &k.output_topic, true),
            ("kafka.dlq_topic", &k.dlq_topic, true),
            ("kafka.duplicates_topic", &k.duplicates_topic, false),
        ] {
            if topic.is_empty() {
                if required {
                    problems.push(format!("{key} is empty"));
                }
            } else if topic.len() > 249
                || !topic
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
                || topic == "."
                || topic == ".."
            {
                problems.push(format!("{key} = {topic:?} is not a valid Kafka topic name ([a-zA-Z0-9._-], at most 249)"));
            }
        }
        let outs = [&k.output_topic, &k.dlq_topic, &k.duplicates_topic];
        if outs.contains(&&k.input_topic) {
            problems.push(
                "kafka.input_topic must differ from the output, dead-letter and duplicates topics"
                    .into(),
            );
        }
        if k.output_topic == k.dlq_topic
            || (!k.duplicates_topic.is_empty() && outs[..2].contains(&&k.duplicates_topic))
        {
            problems.push(
                "kafka.output_topic, kafka.dlq_topic and kafka.duplicates_topic must differ".into(),
            );
        }
        if k.group_id.trim().is_empty() {
            problems.push("kafka.group_id is empty".into());
        }
        if k.topic_partitions < 1 || k.topic_replication < 1 {
            problems.push(
                "kafka.topic_partitions and kafka.topic_replication must be at least 1".into(),
            );
        }
        if self.http.listen.parse::<SocketAddr>().is_err() {
            problems.push(format!(
                "http.listen = {:?} is not an address like 0.0.0.0:9898",
                self.http.listen
            ));
        }
        let p = &self.processing;
        if p.max_in_flight_messages == 0 || p.max_in_flight_bytes < p.max_message_bytes {
            problems.push(
                "processing.max_in_flight_messages must be > 0 and processing.max_in_flight_bytes >= processing.max_message_bytes".into(),
            );
        }
        if !(1..=600).contains(&p.drain_timeout_secs) {
            problems.push("processing.drain_timeout_secs must be between 1 and 600".into());
        }
        if p.workers > 256 {
            problems.push("processing.workers must be at most 256 (0 = one per core)".into());
        }
        if p.max_message_bytes == 0 || p.max_json_depth == 0 {
            problems.push(
                "processing.max_message_bytes and processing.max_json_depth must be > 0".into(),
            );
        }
        if p.retry_backoff_min_ms == 0 || p.retry_backoff_min_ms > p.retry_backoff_max_ms {
            problems.push(
                "processing.retry_backoff_min_ms must be > 0 and <= retry_backoff_max_ms".into(),
            );
        }
        if self.normalize.default_utc_offset_minutes.abs() > 14 * 60 {
            problems.push("normalize.default_utc_offset_minutes must be within ±840".into());
        }
        if let Err(e) = crate::app::pipeline_options(self).dedup.validate() {
            problems.push(format!(
                "dedup: {e} (dedup.window_hours, dedup.max_entries, dedup.near_threshold)"
            ));
        }
        let e = &self.enrich;
        if !(0.0..=1.0).contains(&e.min_language_confidence) {
            problems.push("enrich.min_language_confidence must be between 0 and 1".into());
        }
        if let Some(bad) = e
            .languages
            .iter()
            .find(|l| l.len() != 2 || !l.chars().all(|c| c.is_ascii_lowercase()))
        {
            problems.push(format!(
                "enrich.languages: {bad:?} is not an ISO 639-1 code"
            ));
        }
        for (key, path) in [
            ("enrich.publishers_file", &e.publishers_file),
            ("enrich.organizations_file", &e.organizations_file),
        ] {
            if !path.is_empty() && !Path::new(path).is_file() {
                problems.push(format!("{key}: file {path:?} does not exist"));
            }
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log.level).is_err() {
            problems.push(format!(
                "log.level = {:?} is not a valid filter",
                self.log.level
            ));
        }
        for (name, path) in flatten(&k.property_files) {
            if !Path::new(&path).is_file() {
                problems.push(format!(
                    "kafka.property_files.{name}: file {path:?} does not exist"
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            bail!("invalid configuration:\n  - {}", problems.join("\n  - "))
        }
    }

    pub fn is_embedded(&self) -> bool {
        self.kafka.brokers.trim() == "embedded"
    }

    /// librdkafka properties for one client: common < client-specific < files.
    pub fn client_properties(&self, consumer: bool) -> anyhow::Result<BTreeMap<String, String>> {
        let mut props = flatten(&self.kafka.properties);
        props.extend(flatten(if consumer {
            &self.kafka.consumer_properties
        } else {
            &self.kafka.producer_properties
        }));
        for (name, path) in flatten(&self.kafka.property_files) {
            let value = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {path} for {name}"))?;
            props.insert(name, value.trim_end_matches(['\n', '\r']).to_owned());
        }
        Ok(props)
    }

    /// The effective settings as TOML, secrets replaced by "<redacted>".
    pub fn redacted(&self) -> String {
        let mut copy = self.clone();
        for props in [
            &mut copy.kafka.properties,
            &mut copy.kafka.consumer_properties,
            &mut copy.kafka.producer_properties,
        ] {
            let flat = flatten(props);
            *props = flat
                .into_iter()
                .map(|(k, v)| {
                    let v = if is_secret(&k) {
                        "<redacted>".to_owned()
                    } else {
                        v
                    };
                    (k, PropValue::Str(v))
                })
                .collect();
        }
        toml_string(&copy)
    }
}

fn toml_string(s: &Settings) -> String {
    // serde_json keeps this dependency-free; the layout mirrors the TOML sections.
    let v = serde_json::to_value(s).expect("settings serialize");
    let mut out = String::new();
    if let serde_json::Value::Object(sections) = v {
        for (name, body) in sections {
            write_section(&mut out, &name, &body);
        }
    }
    out
}

fn write_section(out: &mut String, name: &str, body: &serde_json::Value) {
    use std::fmt::Write;
    let serde_json::Value::Object(fields) = body else {
        return;
    };
    let _ = writeln!(out, "[{name}]");
    let mut tables = Vec::new();
    for (k, v) in fields {
        if v.is_object() {
            tables.push((k, v));
        } else {
            let _ = writeln!(out, "{k} = {v}");
        }
    }
    out.push('\n');
    for (k, v) in tables {
        let _ = writeln!(out, "[{name}.{k}]");
        if let serde_json::Value::Object(m) = v {
            for (pk, pv) in m {
                let _ = writeln!(out, "{pk:?} = {pv}");
            }
        }
        out.push('\n');
    }
}

/// Settings from the built-in defaults, the given environment and overrides only (no
/// process environment, no file): for tests across the crate.
#[cfg(test)]
pub(crate) fn load_with(
    env: &[(&str, &str)],
    overrides: &[(&str, &str)],
) -> anyhow::Result<Settings> {
    Settings::load(&Sources {
        env: Some(
            env.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ),
        overrides: overrides
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_load_and_validate() {
        let s = load_with(&[], &[]).unwrap();
        assert!(s.is_embedded());
        assert_eq!(s.kafka.input_topic, "articles.raw");
        assert_eq!(s.http.listen, "0.0.0.0:9898");
    }

    #[test]
    fn env_then_overrides_win() {
        let s = load_with(
            &[
                ("NEWSFLOW__KAFKA__BROKERS", "k1:9092"),
                ("NEWSFLOW__KAFKA__GROUP_ID", "g-env"),
            ],
            &[("kafka.group_id", "g-flag")],
        )
        .unwrap();
        assert_eq!(s.kafka.brokers, "k1:9092");
        assert_eq!(s.kafka.group_id, "g-flag");
    }

    #[test]
    fn file_layer_applies() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.toml");
        std::fs::write(&f, "[kafka]\ninput_topic = \"in.x\"\n[kafka.properties]\n\"security.protocol\" = \"SSL\"\n").unwrap();
        let s = Settings::load(&Sources {
            file: Some(f),
            env: Some(BTreeMap::new()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(s.kafka.input_topic, "in.x");
        assert_eq!(
            s.client_properties(true)
                .unwrap()
                .get("security.protocol")
                .map(String::as_str),
            Some("SSL")
        );
    }

    #[test]
    fn unknown_key_is_rejected_by_name() {
        let err = load_with(&[("NEWSFLOW__KAFKA__BROKRES", "x")], &[]).unwrap_err();
        assert!(format!("{err:#}").contains("brokres"), "{err:#}");
        let err = load_with(&[("NEWSFLOW__NOPE__X", "1")], &[]).unwrap_err();
        assert!(format!("{err:#}").contains("nope"), "{err:#}");
    }

    #[test]
    fn invalid_values_name_the_key() {
        let err = load_with(&[], &[("kafka.input_topic", "bad topic!")]).unwrap_err();
        assert!(format!("{err:#}").contains("kafka.input_topic"), "{err:#}");
        let err = load_with(&[], &[("http.listen", "nowhere")]).unwrap_err();
        assert!(format!("{err:#}").contains("http.listen"), "{err:#}");
        let err = load_with(&[], &[("kafka.output_topic", "articles.raw")]).unwrap_err();
        assert!(format!("{err:#}").contains("must differ"), "{err:#}");
        let err = load_with(&[], &[("processing.drain_timeout_secs", "abc")]).unwrap_err();
        assert!(format!("{err:#}").contains("drain_timeout_secs"), "{err:#}");
    }

    #[test]
    fn nested_env_properties_flatten_to_dotted_names_and_secrets_are_redacted() {
        let s = load_with(
            &[
                ("NEWSFLOW__KAFKA__PROPERTIES__CLIENT__ID", "007"),
                ("NEWSFLOW__PROCESSING__WORKERS", "3"),
                ("NEWSFLOW__KAFKA__PROPERTIES__SASL__PASSWORD", "hunter2"),
                ("NEWSFLOW__KAFKA__PROPERTIES__SASL__USERNAME", "svc"),
                (
                    "NEWSFLOW__KAFKA__PROPERTIES__SECURITY__PROTOCOL",
                    "SASL_SSL",
                ),
            ],
            &[],
        )
        .unwrap();
        let p = s.client_properties(false).unwrap();
        assert_eq!(p["sasl.password"], "hunter2");
        assert_eq!(p["client.id"], "007", "property values stay strings");
        assert_eq!(
            s.processing.workers, 3,
            "typed settings still parse from the environment"
        );
        assert_eq!(p["security.protocol"], "SASL_SSL");
        let shown = s.redacted();
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(
            shown.contains("<redacted>") && shown.contains("svc"),
            "{shown}"
        );
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn property_files_supply_secret_values() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("pw");
        std::fs::write(&f, "s3cret\n").unwrap();
        let s = load_with(
            &[],
            &[("kafka.property_files.sasl.password", f.to_str().unwrap())],
        )
        .unwrap();
        assert_eq!(
            s.client_properties(true).unwrap()["sasl.password"],
            "s3cret"
        );
        assert!(!s.redacted().contains("s3cret"));
        let err = load_with(
            &[],
            &[("kafka.property_files.sasl.password", "/nonexistent/pw")],
        )
        .unwrap_err();
        assert!(
            format!("{err:#}").contains("kafka.property_files.sasl.password"),
            "{err:#}"
        );
    }
}
