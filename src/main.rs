//! The `newsflow` command: parses arguments, loads settings, builds the metrics registry
//! and hands over to the library (`app::run`, `demo::run`, `produce`).

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use tokio_util::sync::CancellationToken;

use newsflow::config::{Settings, Sources};
use newsflow::metrics::Metrics;

#[derive(Parser)]
#[command(
    name = "newsflow",
    version,
    about = "Streaming ingestion of news articles: Kafka in, deduplicated and enriched JSON records out"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service (brokers = "embedded" starts an in-process broker).
    Run(ConfigArgs),
    /// Run the service on the embedded broker with the sample corpus and print a summary.
    Demo {
        #[command(flatten)]
        config: ConfigArgs,
        /// Keep serving /metrics after the summary until Ctrl-C.
        #[arg(long)]
        linger: bool,
    },
    /// Publish raw article files, directories or NDJSON lines to a topic.
    Produce {
        #[arg(long, env = "NEWSFLOW__KAFKA__BROKERS")]
        brokers: String,
        #[arg(long)]
        topic: String,
        /// Treat every file as one message per non-empty line (default for .ndjson/.jsonl).
        #[arg(long)]
        lines: bool,
        /// Extra librdkafka producer property, KEY=VALUE (repeatable).
        #[arg(long = "property", value_parser = parse_kv)]
        properties: Vec<(String, String)>,
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Load and validate the settings, print them with secrets redacted.
    CheckConfig(ConfigArgs),
    /// Measure enrichment accuracy (language, countries, organizations) on the shipped
    /// labelled set, or on the set files in DIR; exits 1 when a target is missed.
    EvalEnrich {
        #[command(flatten)]
        config: ConfigArgs,
        dir: Option<PathBuf>,
    },
    /// Evaluate deduplication on a generated, labelled set: precision, recall, F1 per
    /// kind, memory per article and throughput, with the configured thresholds.
    EvalDedup {
        #[command(flatten)]
        config: ConfigArgs,
        /// News events to generate (each with its copies, variants and distinct write-ups).
        #[arg(long, default_value_t = 5000)]
        events: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

#[derive(Args, Clone)]
struct ConfigArgs {
    /// Configuration file (TOML), layered over the built-in defaults.
    #[arg(long, short)]
    config: Option<PathBuf>,
    #[arg(long)]
    brokers: Option<String>,
    #[arg(long)]
    input_topic: Option<String>,
    #[arg(long)]
    output_topic: Option<String>,
    #[arg(long)]
    dlq_topic: Option<String>,
    #[arg(long)]
    group_id: Option<String>,
    /// HTTP address for /metrics, /healthz, /readyz.
    #[arg(long)]
    listen: Option<String>,
    /// Any setting, dotted KEY=VALUE (e.g. processing.workers=4); repeatable.
    #[arg(long = "set", value_parser = parse_kv)]
    set: Vec<(String, String)>,
}

fn parse_kv(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.trim().to_owned(), v.to_owned()))
        .ok_or_else(|| format!("expected KEY=VALUE, got {s:?}"))
}

impl ConfigArgs {
    fn load(&self) -> anyhow::Result<Settings> {
        let mut overrides = Vec::new();
        for (key, v) in [
            ("kafka.brokers", &self.brokers),
            ("kafka.input_topic", &self.input_topic),
            ("kafka.output_topic", &self.output_topic),
            ("kafka.dlq_topic", &self.dlq_topic),
            ("kafka.group_id", &self.group_id),
            ("http.listen", &self.listen),
        ] {
            if let Some(v) = v {
                overrides.push((key.to_owned(), v.clone()));
            }
        }
        overrides.extend(self.set.iter().cloned());
        Settings::load(&Sources {
            local_default: true,
            file: self.config.clone(),
            overrides,
            env: None,
        })
    }
}

/// Cancels the token on SIGTERM or Ctrl-C; a second signal exits at once.
fn shutdown_on_signals() -> CancellationToken {
    let token = CancellationToken::new();
    let t = token.clone();
    tokio::spawn(async move {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        for n in 0..2 {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            if n == 0 {
                tracing::info!("shutdown requested; draining (signal again to exit at once)");
                t.cancel();
            } else {
                tracing::warn!("second signal; exiting without draining");
                std::process::exit(130);
            }
        }
    });
    token
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Run(args) => {
                let settings = args.load()?;
                newsflow::telemetry::init(&settings.log);
                let registry = prometheus::Registry::new();
                let metrics = Metrics::new(&registry)?;
                newsflow::app::run(settings, registry, metrics, shutdown_on_signals(), None).await
            }
            Command::Demo { config, linger } => {
                let mut settings = config.load()?;
                if config.listen.is_none() {
                    settings.http.listen = "127.0.0.1:0".into();
                }
                newsflow::telemetry::init(&settings.log);
                let registry = prometheus::Registry::new();
                let metrics = Metrics::new(&registry)?;
                let summary =
                    newsflow::demo::run(settings, registry, metrics, shutdown_on_signals(), linger)
                        .await?;
                if !linger {
                    print!("{}", newsflow::demo::render(&summary));
                }
                Ok(())
            }
            Command::Produce {
                brokers,
                topic,
                lines,
                properties,
                paths,
            } => {
                // Client warnings (unreachable broker, TLS or SASL failures) go to stderr.
                newsflow::telemetry::init(&newsflow::config::LogSettings {
                    format: newsflow::config::LogFormat::Text,
                    level: "warn".into(),
                });
                let messages = newsflow::produce::collect_messages(&paths, lines)?;
                let n = newsflow::produce::produce(&brokers, &topic, &messages, &properties)
                    .await
                    .with_context(|| format!("producing to {topic} on {brokers}"))?;
                println!("produced {n} messages to {topic}");
                Ok(())
            }
            Command::EvalEnrich { config, dir } => {
                use newsflow::enrich::eval::{load_dir, run_eval, EvalCase};
                let settings = config.load()?;
                let cases = match dir {
                    Some(d) => load_dir(&d)?,
                    None => EvalCase::shipped(),
                };
                let enricher = newsflow::enrich::Enricher::new(
                    newsflow::app::pipeline_options(&settings).enrich,
                )?;
                let report = run_eval(&enricher, &cases);
                println!("{report}");
                for m in report.misses() {
                    println!("  miss: {m}");
                }
                if !report.meets_targets() {
                    anyhow::bail!("accuracy below target");
                }
                Ok(())
            }
            Command::EvalDedup {
                config,
                events,
                seed,
            } => {
                let settings = config.load()?;
                let opts = newsflow::app::pipeline_options(&settings).dedup;
                let capacity = opts.max_entries;
                let report = tokio::task::spawn_blocking(move || {
                    newsflow::dedup::eval::run_eval_with(events, seed, opts, capacity)
                })
                .await?;
                println!("{report}");
                Ok(())
            }
            Command::CheckConfig(args) => {
                let settings = args.load()?;
                print!("{}", settings.redacted());
                eprintln!("configuration is valid");
                Ok(())
            }
        }
    });
    // Client threads still blocked on an unreachable broker must not hold the exit.
    runtime.shutdown_timeout(newsflow::app::SHUTDOWN_GRACE);
    result
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    #[test]
    fn every_command_says_what_it_does() {
        let cli = Cli::command();
        cli.clone().debug_assert();
        for sub in cli.get_subcommands() {
            let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
            assert!(!about.is_empty(), "`{}` has no description", sub.get_name());
        }
        let about = |name: &str| {
            cli.find_subcommand(name)
                .and_then(|c| c.get_about())
                .unwrap()
                .to_string()
        };
        assert!(about("eval-enrich").contains("enrichment"));
        assert!(about("eval-dedup").contains("deduplication"));
    }
}
