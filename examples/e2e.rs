//! End-to-end throughput of newsflow against the client/broker ceiling, on one kind of
//! broker and one data set (`bench/e2e.sh` drives it; `BENCHMARKS.md` explains the figures).
//!
//! Every run gets a fresh broker fed the same generated corpus, then measures one of:
//! (a) a pass-through consumer→producer with newsflow's own client settings, consumer
//!     context and offset tracking (group consumer, manual offset store over contiguous
//!     watermarks, idempotent producer, offsets stored only after the delivery report), and
//!     no processing: the ceiling; it runs before and after (b);
//! (b) newsflow itself: the release binary as a child process (`broker`, or `embedded
//!     --service-bin`), or `app::run` in this process (`embedded`).
//! Latency is measured on a second, paced feed (a backlog would only measure the queue):
//! Kafka timestamp of each input record → timestamp of its output record.
//!
//! Subcommands: `broker` (an external broker process, e.g. Tansu, started per run),
//! `embedded` (librdkafka's mock cluster in this process), `window` (pipeline throughput and
//! memory against the dedup window size, no Kafka), `pipeline` (one pass for profilers),
//! `report`, `feed`, `sample`.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use futures::stream::{FuturesUnordered, StreamExt};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer, StreamConsumer};
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::util::Timeout;
use rdkafka::{Offset, TopicPartitionList};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use newsflow::bench_corpus::{Corpus, CorpusOptions};
use newsflow::config::{Settings, Sources};
use newsflow::kafka::{self, ConsumerCtx, ConsumerShared, EmbeddedBroker};
use newsflow::metrics::Metrics;

#[derive(Parser)]
#[command(about = "End-to-end throughput against the pass-through ceiling")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Ceiling, newsflow binary and latency runs, each on a fresh external broker process.
    Broker {
        /// Shell command starting the broker in the foreground (it is `exec`ed, so the
        /// process measured is the broker's); `{dir}` (a fresh empty directory) and `{port}`
        /// are substituted. It must listen on 127.0.0.1:{port}.
        #[arg(long)]
        start: String,
        /// Shell command creating a topic; `{dir}`, `{port}`, `{topic}` and `{partitions}`
        /// are substituted.
        #[arg(long)]
        create_topic: String,
        /// The `newsflow` release binary.
        #[arg(long)]
        bin: PathBuf,
        #[command(flatten)]
        run: RunArgs,
    },
    /// The same on librdkafka's mock cluster, with newsflow's `app::run` in this process.
    Embedded {
        #[command(flatten)]
        run: RunArgs,
    },
    /// Pipeline throughput and memory against the number of articles in the dedup window
    /// (no Kafka; one thread).
    Window {
        /// Indexed articles, comma-separated.
        #[arg(long, default_value = "100000,1000000,10000000")]
        sizes: String,
        #[arg(long, default_value_t = 20_000)]
        count: usize,
        #[arg(long, default_value_t = 4096)]
        size: usize,
    },
    /// `Pipeline::process` over the corpus on one thread, no Kafka (for profilers:
    /// `valgrind --tool=callgrind --toggle-collect='*Pipeline::process*'`).
    Pipeline {
        #[command(flatten)]
        corpus: CorpusArgs,
        /// Also write every published record, one per line, to this file, processed at a
        /// fixed time so two builds' files can be compared byte for byte.
        #[arg(long)]
        records: Option<PathBuf>,
    },
    /// Feed the corpus to a topic (bulk, or paced with --rate).
    Feed {
        #[arg(long)]
        brokers: String,
        #[arg(long)]
        topic: String,
        #[command(flatten)]
        corpus: CorpusArgs,
        #[arg(long)]
        rate: Option<f64>,
        /// Generate everything first, print `ready BYTES`, then stay at most this many
        /// messages ahead of the consumed count read from stdin (one number per line).
        #[arg(long)]
        max_lag: Option<u64>,
    },
    /// Print the table of runs recorded with --json.
    Report { json: PathBuf },
    /// Write corpus messages to a directory, one file each (to look at them).
    Sample {
        #[arg(long)]
        dir: PathBuf,
        #[command(flatten)]
        corpus: CorpusArgs,
    },
}

#[derive(Args, Clone)]
struct CorpusArgs {
    #[arg(long, default_value_t = 50_000)]
    count: usize,
    /// Target message size in bytes.
    #[arg(long, default_value_t = 4096)]
    size: usize,
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

#[derive(Args, Clone)]
struct RunArgs {
    #[command(flatten)]
    corpus: CorpusArgs,
    /// Input partitions (comma-separated list: one run per value).
    #[arg(long, default_value = "4")]
    partitions: String,
    /// `processing.workers` values (comma-separated list: one service run per value).
    #[arg(long, default_value = "0")]
    workers: String,
    /// `dedup.max_entries` values (comma-separated list: one service run per value).
    #[arg(long)]
    max_entries: Option<String>,
    /// Articles in the paced latency feed (0 skips the latency runs).
    #[arg(long, default_value_t = 5_000)]
    latency_count: usize,
    /// Articles per second in the paced latency feed.
    #[arg(long, default_value_t = 500.0)]
    latency_rate: f64,
    /// Skip the pass-through runs (scaling sweeps of the service only).
    #[arg(long)]
    no_ceiling: bool,
    /// Extra settings for both (a) and (b), KEY=VALUE (e.g. librdkafka properties).
    #[arg(long = "set", value_parser = parse_kv)]
    set: Vec<(String, String)>,
    /// Append one JSON line per run here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Label for the broker column.
    #[arg(long, default_value = "")]
    label: String,
    /// Prefix of every topic and group name.
    #[arg(long, default_value = "bench")]
    prefix: String,
    /// `embedded` only: run newsflow as this binary, a process of its own (its memory and
    /// CPU alone), instead of `app::run` in this process.
    #[arg(long)]
    service_bin: Option<PathBuf>,
}

fn parse_kv(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.trim().to_owned(), v.to_owned()))
        .ok_or_else(|| format!("expected KEY=VALUE, got {s:?}"))
}

fn list<T: std::str::FromStr>(s: &str) -> anyhow::Result<Vec<T>> {
    s.split(',')
        .map(|v| {
            v.trim()
                .parse()
                .map_err(|_| anyhow::anyhow!("not a number: {v}"))
        })
        .collect()
}

/// One measured run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct RunStats {
    broker: String,
    /// "pass-through" or "newsflow".
    run: String,
    partitions: i32,
    workers: usize,
    max_entries: usize,
    articles: u64,
    bytes: u64,
    /// First message consumed → last one finished (delivery report, or dropped).
    wall_secs: f64,
    /// CPU time of the process over the same span (broker threads excluded).
    cpu_secs: f64,
    /// CPU time of the broker process over the same span, when known.
    broker_cpu_secs: Option<f64>,
    peak_rss_bytes: u64,
    /// Resident memory at 50% of the backlog and at the end.
    rss_mid_bytes: u64,
    rss_end_bytes: u64,
    published: u64,
    latency_p50_ms: Option<f64>,
    latency_p99_ms: Option<f64>,
    latency_max_ms: Option<f64>,
    /// CPU seconds per thread group (newsflow runs only).
    threads: Vec<(String, f64)>,
}

impl RunStats {
    fn rate(&self) -> f64 {
        self.articles as f64 / self.wall_secs
    }
    fn mbps(&self) -> f64 {
        self.bytes as f64 / self.wall_secs / 1e6
    }
    fn cpu_per_10k(&self) -> f64 {
        self.cpu_secs * 10_000.0 / self.articles as f64
    }
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        match cli.command {
            Cmd::Broker {
                start,
                create_topic,
                bin,
                run,
            } => {
                let target = Target::External {
                    start,
                    create_topic,
                    bin,
                };
                sweep(&target, &run).await
            }
            Cmd::Embedded { run } => sweep(&Target::Embedded, &run).await,
            Cmd::Window { sizes, count, size } => window(&list(&sizes)?, count, size),
            Cmd::Pipeline { corpus, records } => pipeline(&corpus, records.as_deref()),
            Cmd::Report { json } => {
                let runs: Vec<RunStats> = std::fs::read_to_string(&json)
                    .with_context(|| format!("reading {}", json.display()))?
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(serde_json::from_str)
                    .collect::<Result<_, _>>()?;
                println!("{}", table(&runs));
                Ok(())
            }
            Cmd::Feed {
                brokers,
                topic,
                corpus,
                rate: _,
                max_lag: Some(lag),
            } => follow_feed(&brokers, &topic, &corpus, lag).await,
            Cmd::Feed {
                brokers,
                topic,
                corpus,
                rate,
                max_lag: None,
            } => {
                let (n, bytes, secs) = feed(&brokers, &topic, &corpus, rate).await?;
                println!(
                    "fed {n} messages ({:.1} MB) to {topic} in {secs:.1}s",
                    bytes as f64 / 1e6
                );
                Ok(())
            }
            Cmd::Sample { dir, corpus } => {
                std::fs::create_dir_all(&dir)?;
                let opts = CorpusOptions::new(corpus.size, corpus.seed);
                for (i, m) in Corpus::generate(opts, corpus.count).iter().enumerate() {
                    let name = format!("{i:05}-{:?}.msg", m.kind).to_lowercase();
                    std::fs::write(dir.join(name), &m.payload)?;
                }
                Ok(())
            }
        }
    })
}

enum Target {
    External {
        start: String,
        create_topic: String,
        bin: PathBuf,
    },
    Embedded,
}

/// A broker started for one run, stopped when dropped.
enum Broker {
    External {
        child: Child,
        dir: tempfile::TempDir,
    },
    Embedded(#[allow(dead_code)] EmbeddedBroker),
}

impl Broker {
    /// A fresh broker with these topics; returns it, its bootstrap address and its pid
    /// (external brokers only).
    fn start(
        target: &Target,
        topics: &[String],
        partitions: i32,
    ) -> anyhow::Result<(Broker, String, Option<u32>)> {
        match target {
            Target::External {
                start,
                create_topic,
                ..
            } => {
                let dir = tempfile::tempdir()?;
                let port = free_port()?;
                let d = dir.path().display().to_string();
                let cmd = start
                    .replace("{dir}", &d)
                    .replace("{port}", &port.to_string());
                let log = std::fs::File::create(dir.path().join("broker.log"))?;
                let child = Command::new("sh")
                    .args(["-c", &format!("exec {cmd}")])
                    .current_dir(dir.path())
                    .stdout(log.try_clone()?)
                    .stderr(log)
                    .spawn()?;
                let pid = child.id();
                let broker = Broker::External { child, dir };
                let deadline = Instant::now() + Duration::from_secs(30);
                while TcpStream::connect(("127.0.0.1", port)).is_err() {
                    if Instant::now() > deadline {
                        bail!("broker did not listen on {port}: {cmd}");
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                for t in topics {
                    let cmd = create_topic
                        .replace("{dir}", &d)
                        .replace("{port}", &port.to_string())
                        .replace("{topic}", t)
                        .replace("{partitions}", &partitions.to_string());
                    let st = Command::new("sh")
                        .args(["-c", &cmd])
                        .stdout(Stdio::null())
                        .status()?;
                    if !st.success() {
                        bail!("creating topic {t} failed: {cmd}");
                    }
                }
                Ok((broker, format!("127.0.0.1:{port}"), Some(pid)))
            }
            Target::Embedded => {
                let refs: Vec<&str> = topics.iter().map(String::as_str).collect();
                let b = EmbeddedBroker::start(&refs, partitions)?;
                let bootstrap = b.bootstrap.clone();
                Ok((Broker::Embedded(b), bootstrap, None))
            }
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Broker::External { child, dir } = self {
            let _ = child.kill();
            let _ = child.wait();
            let _ = dir;
        }
    }
}

/// What one run measures.
#[derive(Clone, Copy)]
enum Run {
    Ceiling,
    Service { workers: usize, max_entries: usize },
}

/// Every run of a sweep: for each partition count, the ceiling, newsflow for each workers /
/// max_entries value, and the ceiling again (a broker that drifts shows up as a
/// difference). Each run gets a fresh broker fed the same corpus: Tansu on SQLite slows
/// down steeply as its topics grow, which would otherwise favour whichever run comes first.
async fn sweep(target: &Target, args: &RunArgs) -> anyhow::Result<()> {
    let label = if args.label.is_empty() {
        match target {
            Target::External { .. } => "external".to_owned(),
            Target::Embedded => "in-process".to_owned(),
        }
    } else {
        args.label.clone()
    };
    let max_entries: Vec<usize> = match &args.max_entries {
        Some(s) => list(s)?,
        None => vec![0],
    };
    let workers: Vec<usize> = list(&args.workers)?;
    let mut all = Vec::new();
    for partitions in list::<i32>(&args.partitions)? {
        let mut runs = Vec::new();
        if !args.no_ceiling {
            runs.push((Run::Ceiling, args.latency_count > 0));
        }
        for (i, w) in workers.iter().enumerate() {
            for (j, m) in max_entries.iter().enumerate() {
                let run = Run::Service {
                    workers: *w,
                    max_entries: *m,
                };
                runs.push((run, args.latency_count > 0 && i == 0 && j == 0));
            }
        }
        if !args.no_ceiling && !workers.is_empty() {
            runs.push((Run::Ceiling, false));
        }
        let mut ceilings = 0;
        for (run, latency) in runs {
            let mut st = one_run(target, args, partitions, run, latency).await?;
            st.broker = label.clone();
            if matches!(run, Run::Ceiling) {
                if ceilings > 0 {
                    st.run = "pass-through (repeat)".into();
                }
                ceilings += 1;
            }
            let own_process = matches!(run, Run::Service { .. }) && args.service_bin.is_some();
            if matches!(target, Target::Embedded) && !own_process {
                // The mock cluster's stored topics live in this process: no memory figure.
                (st.peak_rss_bytes, st.rss_mid_bytes, st.rss_end_bytes) = (0, 0, 0);
            }
            emit(args, &st)?;
            all.push(st);
        }
    }
    println!("{}", table(&all));
    Ok(())
}

/// One run on a fresh broker: the backlog (fed before, or alongside on the mock cluster,
/// which keeps at most 5 MiB per partition), then the paced latency feed when asked.
async fn one_run(
    target: &Target,
    args: &RunArgs,
    partitions: i32,
    run: Run,
    latency: bool,
) -> anyhow::Result<RunStats> {
    let p = &args.prefix;
    let topics: Vec<String> = ["in", "out", "dlq", "lat.in", "lat.out", "lat.dlq"]
        .iter()
        .map(|t| format!("{p}.{t}"))
        .collect();
    let (_broker, brokers, broker_pid) = Broker::start(target, &topics, partitions)?;
    let embedded = matches!(target, Target::Embedded);
    let n = args.corpus.count as u64;
    let mut bytes = 0;
    if !embedded {
        let (_, b, secs) = feed(&brokers, &topics[0], &args.corpus, None).await?;
        bytes = b;
        eprintln!(
            "fed {n} articles ({:.0} MB) in {secs:.1}s ({:.0}/s)",
            b as f64 / 1e6,
            n as f64 / secs
        );
    }
    let topic_settings = |input: &str, output: &str, dlq: &str| -> Vec<(String, String)> {
        vec![
            ("kafka.input_topic".into(), input.into()),
            ("kafka.output_topic".into(), output.into()),
            ("kafka.dlq_topic".into(), dlq.into()),
            ("kafka.group_id".into(), format!("{p}.group")),
        ]
    };
    let mut extra = topic_settings(&topics[0], &topics[1], &topics[2]);
    let mut lat_extra = topic_settings(&topics[3], &topics[4], &topics[5]);
    lat_extra[3].1 = format!("{p}.lat.group");
    if let Run::Service {
        workers,
        max_entries,
    } = run
    {
        for e in [&mut extra, &mut lat_extra] {
            e.push(("processing.workers".into(), workers.to_string()));
            if max_entries > 0 {
                e.push(("dedup.max_entries".into(), max_entries.to_string()));
            }
        }
    }
    let s = settings(args, &extra)?;
    let mut st = match (run, target) {
        (Run::Ceiling, _) => {
            let consumed = Arc::new(AtomicU64::new(0));
            let feeder = if embedded {
                let c = consumed.clone();
                let f = Feeder::start(&brokers, &topics[0], args, partitions, move || {
                    c.load(Ordering::Relaxed)
                })
                .await?;
                bytes = f.bytes;
                Some(f)
            } else {
                None
            };
            let st = measure_passthrough(&s, &brokers, n, broker_pid, consumed).await;
            if let Some(f) = feeder {
                f.finish().await?;
            }
            st?
        }
        (Run::Service { .. }, Target::External { bin, .. }) => {
            measure_binary(bin, &s, &brokers, n, broker_pid, free_port()?).await?
        }
        (Run::Service { .. }, Target::Embedded) if args.service_bin.is_some() => {
            let bin = args.service_bin.as_ref().expect("checked");
            let port = free_port()?;
            // Its consumed count, read from /metrics at most every 20 ms.
            let mut last = (Instant::now(), 0u64);
            let f = Feeder::start(&brokers, &topics[0], args, partitions, move || {
                if last.0.elapsed() >= Duration::from_millis(20) {
                    if let Some(p) = scrape(port) {
                        last = (Instant::now(), p.consumed as u64);
                    }
                }
                last.1
            })
            .await?;
            bytes = f.bytes;
            let st = measure_binary(bin, &s, &brokers, n, None, port).await;
            f.finish().await?;
            st?
        }
        (Run::Service { .. }, Target::Embedded) => {
            let metrics = Metrics::new(&prometheus::Registry::new())?;
            let m = metrics.clone();
            let f =
                Feeder::start(&brokers, &topics[0], args, partitions, move || m.consumed()).await?;
            bytes = f.bytes;
            let st = measure_in_process(&s, &brokers, n, metrics).await;
            f.finish().await?;
            st?
        }
    };
    st.bytes = bytes;
    st.partitions = partitions;
    if let Run::Service { workers, .. } = run {
        st.workers = workers;
        st.max_entries = s.dedup.max_entries;
    }
    if latency {
        let s = settings(args, &lat_extra)?;
        (st.latency_p50_ms, st.latency_p99_ms, st.latency_max_ms) = match (run, target) {
            (Run::Ceiling, _) => latency_passthrough(&s, &brokers, args).await?,
            (Run::Service { .. }, Target::External { bin, .. }) => {
                latency_binary(bin, &s, &brokers, args).await?
            }
            (Run::Service { .. }, Target::Embedded) => match &args.service_bin {
                Some(bin) => latency_binary(bin, &s, &brokers, args).await?,
                None => latency_in_process(&s, &brokers, args).await?,
            },
        };
    }
    Ok(st)
}

/// The settings of a run: defaults, then `--set`, then `extra`.
fn settings(args: &RunArgs, extra: &[(String, String)]) -> anyhow::Result<Settings> {
    let mut overrides = args.set.clone();
    overrides.extend_from_slice(extra);
    Settings::load(&Sources {
        local_default: false,
        file: None,
        overrides,
        env: None,
    })
}

/// A child process feeding a topic while a run consumes it, never more than a few MiB per
/// partition ahead of the run's consumed count (which this process writes to its stdin).
/// Being another process, its CPU time is not counted against the run.
struct Feeder {
    child: Child,
    pump: tokio::task::JoinHandle<()>,
    bytes: u64,
}

impl Feeder {
    async fn start(
        brokers: &str,
        topic: &str,
        args: &RunArgs,
        partitions: i32,
        mut consumed: impl FnMut() -> u64 + Send + 'static,
    ) -> anyhow::Result<Feeder> {
        let lag = (partitions as usize * (3 << 20) / args.corpus.size.max(1)).max(1);
        let mut child = Command::new(std::env::current_exe()?)
            .args(["feed", "--brokers", brokers, "--topic", topic])
            .args(["--count", &args.corpus.count.to_string()])
            .args(["--size", &args.corpus.size.to_string()])
            .args(["--seed", &args.corpus.seed.to_string()])
            .args(["--max-lag", &lag.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let stdout = child.stdout.take().expect("piped");
        let line = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)
                .map(|_| line)
        })
        .await??;
        let bytes = line
            .strip_prefix("ready ")
            .and_then(|b| b.trim().parse().ok())
            .with_context(|| format!("feeder said {line:?}"))?;
        let mut stdin = child.stdin.take().expect("piped");
        let pump = tokio::task::spawn_blocking(move || loop {
            if writeln!(stdin, "{}", consumed()).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(2));
        });
        Ok(Feeder { child, pump, bytes })
    }

    async fn finish(mut self) -> anyhow::Result<()> {
        let st = tokio::task::spawn_blocking(move || self.child.wait()).await??;
        self.pump.abort();
        if !st.success() {
            bail!("feeder failed: {st}");
        }
        Ok(())
    }
}

fn emit(args: &RunArgs, st: &RunStats) -> anyhow::Result<()> {
    eprintln!("{}", row(st, None));
    if let Some(path) = &args.json {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        writeln!(f, "{}", serde_json::to_string(st)?)?;
    }
    Ok(())
}

const HEADER: &str = "| broker | run | partitions | workers | articles | articles/s | MB/s | CPU s per 10k | cores used | broker CPU s per 10k | p50 ms | p99 ms | peak RSS MB | RSS mid→end MB | (b)/(a) |";

fn row(st: &RunStats, ceiling: Option<&RunStats>) -> String {
    let opt = |v: Option<f64>, digits: usize| {
        v.map(|v| format!("{v:.digits$}"))
            .unwrap_or_else(|| "–".into())
    };
    let run = if st.run == "newsflow" && st.max_entries != 1_000_000 {
        format!("newsflow (window {})", st.max_entries)
    } else {
        st.run.clone()
    };
    // In this process the mock cluster's stored topics count too: no memory figure.
    let (peak, mid_end) = if st.peak_rss_bytes == 0 {
        ("–".to_owned(), "–".to_owned())
    } else {
        (
            format!("{:.0}", st.peak_rss_bytes as f64 / 1e6),
            format!(
                "{:.0}→{:.0}",
                st.rss_mid_bytes as f64 / 1e6,
                st.rss_end_bytes as f64 / 1e6
            ),
        )
    };
    format!(
        "| {} | {} | {} | {} | {} | {:.0} | {:.1} | {:.2} | {:.2} | {} | {} | {} | {} | {} | {} |",
        st.broker,
        run,
        st.partitions,
        if st.run == "newsflow" {
            if st.workers == 0 {
                "auto".to_string()
            } else {
                st.workers.to_string()
            }
        } else {
            "–".into()
        },
        st.articles,
        st.rate(),
        st.mbps(),
        st.cpu_per_10k(),
        st.cpu_secs / st.wall_secs,
        opt(
            st.broker_cpu_secs
                .map(|c| c * 10_000.0 / st.articles as f64),
            2
        ),
        opt(st.latency_p50_ms, 0),
        opt(st.latency_p99_ms, 0),
        peak,
        mid_end,
        match ceiling {
            Some(c) if st.run == "newsflow" => format!("{:.2}", st.rate() / c.rate()),
            _ => "–".into(),
        }
    )
}

fn table(all: &[RunStats]) -> String {
    let mut out = String::new();
    out.push_str(HEADER);
    out.push('\n');
    out.push_str(&"|---".repeat(HEADER.matches('|').count() - 1));
    out.push_str("|\n");
    // (b)/(a) against the mean rate of the ceiling runs of the same broker and partitions.
    let mut ceilings: HashMap<(String, i32), Vec<&RunStats>> = HashMap::new();
    for st in all.iter().filter(|s| s.run.starts_with("pass-through")) {
        ceilings
            .entry((st.broker.clone(), st.partitions))
            .or_default()
            .push(st);
    }
    let mean: HashMap<(String, i32), RunStats> = ceilings
        .into_iter()
        .map(|(k, v)| {
            let mut m = v[0].clone();
            m.wall_secs = v.iter().map(|s| s.articles as f64).sum::<f64>()
                / v.iter().map(|s| s.rate()).sum::<f64>();
            (k, m)
        })
        .collect();
    for st in all {
        out.push_str(&row(st, mean.get(&(st.broker.clone(), st.partitions))));
        out.push('\n');
    }
    for st in all.iter().filter(|s| !s.threads.is_empty()) {
        out.push_str(&format!(
            "\nCPU seconds by thread, {} {} p{} workers {}: {}",
            st.broker,
            st.run,
            st.partitions,
            st.workers,
            st.threads
                .iter()
                .map(|(n, s)| format!("{n} {s:.2}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    out
}

// ---------------------------------------------------------------------------------------
// Feeding

fn partitions_of(brokers: &str, topic: &str) -> anyhow::Result<i32> {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()?;
    let md = c.fetch_metadata(Some(topic), Duration::from_secs(10))?;
    let n = md
        .topics()
        .first()
        .map(|t| t.partitions().len())
        .unwrap_or(0);
    if n == 0 {
        bail!("topic {topic} has no partitions");
    }
    Ok(n as i32)
}

/// Publishes the corpus round-robin over the topic's partitions; paced when `rate` is set.
/// Returns (messages, bytes, seconds).
async fn feed(
    brokers: &str,
    topic: &str,
    corpus: &CorpusArgs,
    rate: Option<f64>,
) -> anyhow::Result<(usize, u64, f64)> {
    let opts = CorpusOptions::new(corpus.size, corpus.seed);
    let messages = Corpus::new(opts).take(corpus.count).map(|m| m.payload);
    feed_messages(brokers, topic, messages, rate, None).await
}

/// `feed --max-lag`: see [`Feeder`].
async fn follow_feed(
    brokers: &str,
    topic: &str,
    corpus: &CorpusArgs,
    lag: u64,
) -> anyhow::Result<()> {
    let opts = CorpusOptions::new(corpus.size, corpus.seed);
    let messages: Vec<Vec<u8>> = Corpus::new(opts)
        .take(corpus.count)
        .map(|m| m.payload)
        .collect();
    let bytes: usize = messages.iter().map(Vec::len).sum();
    println!("ready {bytes}");
    std::io::stdout().flush()?;
    let consumed = Arc::new(AtomicU64::new(0));
    let c = consumed.clone();
    std::thread::spawn(move || {
        let stdin = std::io::stdin();
        let mut line = String::new();
        while std::io::BufRead::read_line(&mut stdin.lock(), &mut line).unwrap_or(0) > 0 {
            if let Ok(n) = line.trim().parse() {
                c.store(n, Ordering::Relaxed);
            }
            line.clear();
        }
    });
    feed_messages(
        brokers,
        topic,
        messages.into_iter(),
        None,
        Some((consumed, lag)),
    )
    .await?;
    Ok(())
}

async fn feed_messages(
    brokers: &str,
    topic: &str,
    messages: impl Iterator<Item = Vec<u8>>,
    rate: Option<f64>,
    gate: Option<(Arc<AtomicU64>, u64)>,
) -> anyhow::Result<(usize, u64, f64)> {
    let partitions = partitions_of(brokers, topic)?;
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("enable.idempotence", "true")
        .set("linger.ms", if rate.is_some() { "1" } else { "20" })
        .set("queue.buffering.max.kbytes", "1048576")
        .set("queue.buffering.max.messages", "1000000")
        .create()
        .context("creating feed producer")?;
    let start = Instant::now();
    let mut bytes = 0u64;
    let mut count = 0;
    let mut pending = FuturesUnordered::new();
    for (i, mut payload) in messages.enumerate() {
        if let Some(r) = rate {
            let due = start + Duration::from_secs_f64(i as f64 / r);
            tokio::time::sleep_until(due.into()).await;
        }
        if let Some((consumed, lag)) = &gate {
            while i as u64 >= consumed.load(Ordering::Relaxed) + lag {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        bytes += payload.len() as u64;
        count += 1;
        loop {
            let record = FutureRecord::<(), [u8]>::to(topic)
                .partition(i as i32 % partitions)
                .payload(&payload[..]);
            match producer.send_result(record) {
                Ok(f) => {
                    pending.push(f);
                    break;
                }
                Err((_, r)) => {
                    payload = r.payload.map(<[u8]>::to_vec).unwrap_or_default();
                    // Queue full: let deliveries complete.
                    if let Some(r) = pending.next().await {
                        check_delivery(r)?;
                    }
                }
            }
        }
        while pending.len() > 200_000 {
            if let Some(r) = pending.next().await {
                check_delivery(r)?;
            }
        }
    }
    while let Some(r) = pending.next().await {
        check_delivery(r)?;
    }
    producer.flush(Timeout::After(Duration::from_secs(30)))?;
    Ok((count, bytes, start.elapsed().as_secs_f64()))
}

fn check_delivery(
    r: Result<
        rdkafka::producer::future_producer::OwnedDeliveryResult,
        futures::channel::oneshot::Canceled,
    >,
) -> anyhow::Result<()> {
    match r {
        Ok(Ok(_)) => Ok(()),
        Ok(Err((e, _))) => bail!("feed delivery failed: {e}"),
        Err(_) => bail!("feed delivery cancelled"),
    }
}

// ---------------------------------------------------------------------------------------
// (a) the pass-through

/// What a pass-through run shares between its loop and its delivery tasks.
struct Pass {
    consumer: Arc<StreamConsumer<ConsumerCtx>>,
    cshared: Arc<ConsumerShared>,
    producer: FutureProducer,
    output: String,
    in_flight: AtomicUsize,
    in_flight_bytes: AtomicUsize,
    finished: AtomicU64,
    bytes: AtomicU64,
    done: tokio::sync::Notify,
    expect: u64,
}

/// Runs the pass-through until `expect` messages are finished. `ready` is set once
/// partitions are assigned; `started` is called at the first message.
async fn passthrough(
    settings: &Settings,
    brokers: &str,
    expect: u64,
    ready: Option<Arc<AtomicBool>>,
    consumed: Arc<AtomicU64>,
    mut started: impl FnMut(),
) -> anyhow::Result<Arc<Pass>> {
    let registry = prometheus::Registry::new();
    let metrics = Metrics::new(&registry)?;
    let cshared = Arc::new(ConsumerShared::new(settings, metrics.clone()));
    let consumer: StreamConsumer<ConsumerCtx> = kafka::consumer_config(settings, brokers)?
        .create_with_context(ConsumerCtx(cshared.clone()))?;
    let producer: FutureProducer = kafka::producer_config(settings, brokers)?.create()?;
    consumer.subscribe(&[&settings.kafka.input_topic])?;
    let pass = Arc::new(Pass {
        consumer: Arc::new(consumer),
        cshared,
        producer,
        output: settings.kafka.output_topic.clone(),
        in_flight: AtomicUsize::new(0),
        in_flight_bytes: AtomicUsize::new(0),
        finished: AtomicU64::new(0),
        bytes: AtomicU64::new(0),
        done: tokio::sync::Notify::new(),
        expect,
    });
    let max_msgs = settings.processing.max_in_flight_messages;
    let max_bytes = settings.processing.max_in_flight_bytes;
    let mut paused = false;
    let mut first = true;
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    while pass.finished.load(Ordering::Acquire) < expect {
        if let Some(r) = &ready {
            if metrics.assigned_partitions.get() > 0 {
                r.store(true, Ordering::Release);
            }
        }
        // The service's back-pressure rule: pause above the bounds, resume below half.
        let msgs = pass.in_flight.load(Ordering::Relaxed);
        let bytes = pass.in_flight_bytes.load(Ordering::Relaxed);
        if msgs >= max_msgs || bytes >= max_bytes {
            let _ = pass
                .consumer
                .pause(&pass.consumer.assignment().unwrap_or_default());
            paused = true;
        } else if paused && msgs < max_msgs / 2 && bytes < max_bytes / 2 {
            let _ = pass
                .consumer
                .resume(&pass.consumer.assignment().unwrap_or_default());
            paused = false;
        }
        tokio::select! {
            r = pass.consumer.recv() => {
                let msg = r?.detach();
                consumed.fetch_add(1, Ordering::Relaxed);
                if first {
                    started();
                    first = false;
                }
                let Some(ticket) = pass.cshared.tracker().begin(msg.topic(), msg.partition(), msg.offset()) else {
                    continue;
                };
                let len = msg.payload().map_or(0, <[u8]>::len);
                pass.in_flight.fetch_add(1, Ordering::Relaxed);
                pass.in_flight_bytes.fetch_add(len, Ordering::Relaxed);
                // Keyed like newsflow's output (32 hex digits) and carrying the source
                // position (for latency matching) and a content type, as records do.
                let key = format!("{:016x}{:016x}", msg.partition(), msg.offset());
                let (part, off) = (msg.partition().to_string(), msg.offset().to_string());
                let headers = OwnedHeaders::new()
                    .insert(Header { key: "content-type", value: Some("application/octet-stream") })
                    .insert(Header { key: newsflow::app::HEADER_SOURCE_PARTITION, value: Some(&part) })
                    .insert(Header { key: newsflow::app::HEADER_SOURCE_OFFSET, value: Some(&off) });
                let payload = msg.payload().unwrap_or_default();
                let fut = loop {
                    let record = FutureRecord::to(&pass.output)
                        .key(key.as_bytes())
                        .payload(payload)
                        .headers(headers.clone());
                    match pass.producer.send_result(record) {
                        Ok(f) => break f,
                        Err((rdkafka::error::KafkaError::MessageProduction(
                            rdkafka::types::RDKafkaErrorCode::QueueFull), _)) => {
                            tokio::time::sleep(Duration::from_millis(5)).await;
                        }
                        Err((e, _)) => bail!("produce failed: {e}"),
                    }
                };
                let p = pass.clone();
                tokio::spawn(async move {
                    match fut.await {
                        Ok(Ok(_)) => {}
                        other => {
                            eprintln!("pass-through delivery failed: {other:?}");
                            return;
                        }
                    }
                    {
                        let mut tracker = p.cshared.tracker();
                        if let Some(next) = tracker.complete(&ticket) {
                            let tpl = kafka::to_tpl(&[((ticket.topic.clone(), ticket.partition), next)]);
                            let _ = p.consumer.store_offsets(&tpl);
                        }
                    }
                    p.in_flight.fetch_sub(1, Ordering::Relaxed);
                    p.in_flight_bytes.fetch_sub(len, Ordering::Relaxed);
                    p.bytes.fetch_add(len as u64, Ordering::Relaxed);
                    if p.finished.fetch_add(1, Ordering::AcqRel) + 1 == p.expect {
                        p.done.notify_one();
                    }
                });
            }
            _ = pass.done.notified() => {}
            _ = tick.tick() => {
                if std::env::var_os("E2E_DEBUG").is_some() {
                    eprintln!("pass-through: finished {} in flight {} paused {paused}", pass.finished.load(Ordering::Relaxed), pass.in_flight.load(Ordering::Relaxed));
                }
            }
        }
    }
    Ok(pass)
}

async fn measure_passthrough(
    settings: &Settings,
    brokers: &str,
    expect: u64,
    broker_pid: Option<u32>,
    consumed: Arc<AtomicU64>,
) -> anyhow::Result<RunStats> {
    let me = std::process::id();
    let start: Arc<Mutex<Option<(Instant, CpuSpan)>>> = Arc::default();
    let s2 = start.clone();
    let sampler = RssSampler::start(me);
    let pass = passthrough(settings, brokers, expect, None, consumed, move || {
        reset_peak_rss(me);
        *s2.lock().unwrap() = Some((Instant::now(), CpuSpan::start(me, broker_pid)));
    })
    .await?;
    let (t0, span) = start.lock().unwrap().take().expect("started");
    let wall = t0.elapsed().as_secs_f64();
    let (cpu, bcpu, threads) = span.end();
    let (mid, end, peak) = sampler.finish(me);
    let st = RunStats {
        run: "pass-through".into(),
        articles: expect,
        bytes: pass.bytes.load(Ordering::Relaxed),
        wall_secs: wall,
        cpu_secs: cpu,
        broker_cpu_secs: bcpu,
        peak_rss_bytes: peak,
        rss_mid_bytes: mid,
        rss_end_bytes: end,
        published: pass.finished.load(Ordering::Relaxed),
        threads,
        ..RunStats::default()
    };
    shutdown_pass(pass).await;
    Ok(st)
}

async fn shutdown_pass(pass: Arc<Pass>) {
    let _ = pass.producer.flush(Timeout::After(Duration::from_secs(10)));
    let c = pass.consumer.clone();
    let _ = tokio::task::spawn_blocking(move || c.unsubscribe()).await;
}

/// Latency of the pass-through under a paced feed: (p50, p99, max) in milliseconds.
async fn latency_passthrough(
    settings: &Settings,
    brokers: &str,
    args: &RunArgs,
) -> anyhow::Result<(Option<f64>, Option<f64>, Option<f64>)> {
    let ready = Arc::new(AtomicBool::new(false));
    let expect = args.latency_count as u64;
    let (s, b, r) = (settings.clone(), brokers.to_owned(), ready.clone());
    let task =
        tokio::spawn(
            async move { passthrough(&s, &b, expect, Some(r), Arc::default(), || {}).await },
        );
    wait_until(Duration::from_secs(60), || ready.load(Ordering::Acquire)).await?;
    let corpus = latency_corpus(args);
    feed(
        brokers,
        &settings.kafka.input_topic,
        &corpus,
        Some(args.latency_rate),
    )
    .await?;
    let pass = task.await??;
    shutdown_pass(pass).await;
    latency(
        brokers,
        &settings.kafka.input_topic,
        &settings.kafka.output_topic,
        expect,
    )
}

fn latency_corpus(args: &RunArgs) -> CorpusArgs {
    CorpusArgs {
        count: args.latency_count,
        size: args.corpus.size,
        seed: args.corpus.seed + 1,
    }
}

// ---------------------------------------------------------------------------------------
// (b) newsflow

/// Counters read from the service's /metrics.
#[derive(Debug, Default, Clone, Copy)]
struct Progress {
    consumed: f64,
    finished: f64,
    published: f64,
    in_flight: f64,
    ready: bool,
}

fn scrape(port: u16) -> Option<Progress> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let sum = |name: &str| -> f64 {
        text.lines()
            .filter(|l| l.starts_with(name) && l[name.len()..].starts_with([' ', '{']))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    };
    let published = sum("newsflow_records_published_total");
    Some(Progress {
        consumed: sum("newsflow_messages_consumed_total"),
        finished: published + sum("newsflow_duplicates_total") + sum("newsflow_dead_letters_total"),
        published,
        in_flight: sum("newsflow_in_flight_messages"),
        ready: sum("newsflow_ready") >= 1.0,
    })
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// `newsflow run` as a child process with these settings.
fn spawn_binary(bin: &PathBuf, s: &Settings, brokers: &str, port: u16) -> anyhow::Result<Child> {
    let k = &s.kafka;
    let mut cmd = Command::new(bin);
    cmd.arg("run")
        .args(["--brokers", brokers])
        .args(["--input-topic", &k.input_topic])
        .args(["--output-topic", &k.output_topic])
        .args(["--dlq-topic", &k.dlq_topic])
        .args(["--group-id", &k.group_id])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args([
            "--set",
            &format!("processing.workers={}", s.processing.workers),
        ])
        .args([
            "--set",
            &format!("dedup.max_entries={}", s.dedup.max_entries),
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    for (key, v) in s.client_properties(true)? {
        if !key.starts_with("bootstrap") {
            cmd.args(["--set", &format!("kafka.consumer_properties.{key}={v}")]);
        }
    }
    for (key, v) in s.client_properties(false)? {
        if !key.starts_with("bootstrap") {
            cmd.args(["--set", &format!("kafka.producer_properties.{key}={v}")]);
        }
    }
    Ok(cmd.spawn()?)
}

async fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> anyhow::Result<()> {
    let deadline = Instant::now() + limit;
    while !f() {
        if Instant::now() > deadline {
            bail!("timed out after {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// Polls progress until `expect` messages are finished; returns the stats of that span.
async fn follow(
    pid: u32,
    expect: u64,
    broker_pid: Option<u32>,
    mut progress: impl FnMut() -> Option<Progress>,
) -> anyhow::Result<RunStats> {
    let limit = Instant::now() + Duration::from_secs(1800);
    // Wait for the first consumed message; the span starts there.
    let (t0, span) = loop {
        if let Some(p) = progress() {
            if p.consumed > 0.0 {
                reset_peak_rss(pid);
                break (Instant::now(), CpuSpan::start(pid, broker_pid));
            }
        }
        if Instant::now() > limit {
            bail!("no message consumed");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let mut mid = 0;
    let last = loop {
        let p = progress().unwrap_or_default();
        if mid == 0 && p.finished >= expect as f64 / 2.0 {
            mid = rss(pid);
        }
        if p.finished >= expect as f64 && p.in_flight == 0.0 {
            break p;
        }
        if Instant::now() > limit {
            bail!("only {} of {expect} finished", p.finished);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let wall = t0.elapsed().as_secs_f64();
    let (cpu, broker_cpu, threads) = span.end();
    Ok(RunStats {
        run: "newsflow".into(),
        articles: expect,
        wall_secs: wall,
        cpu_secs: cpu,
        broker_cpu_secs: broker_cpu,
        peak_rss_bytes: peak_rss(pid),
        rss_mid_bytes: mid,
        rss_end_bytes: rss(pid),
        published: last.published as u64,
        threads,
        ..RunStats::default()
    })
}

async fn measure_binary(
    bin: &PathBuf,
    s: &Settings,
    brokers: &str,
    expect: u64,
    broker_pid: Option<u32>,
    port: u16,
) -> anyhow::Result<RunStats> {
    let mut child = spawn_binary(bin, s, brokers, port)?;
    let st = follow(child.id(), expect, broker_pid, || scrape(port)).await;
    stop_child(&mut child);
    st
}

fn stop_child(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

async fn latency_binary(
    bin: &PathBuf,
    s: &Settings,
    brokers: &str,
    args: &RunArgs,
) -> anyhow::Result<(Option<f64>, Option<f64>, Option<f64>)> {
    let port = free_port()?;
    let mut child = spawn_binary(bin, s, brokers, port)?;
    let r = async {
        wait_until(Duration::from_secs(60), || {
            scrape(port).is_some_and(|p| p.ready)
        })
        .await?;
        feed(
            brokers,
            &s.kafka.input_topic,
            &latency_corpus(args),
            Some(args.latency_rate),
        )
        .await?;
        let n = args.latency_count as f64;
        wait_until(Duration::from_secs(120), || {
            scrape(port).is_some_and(|p| p.finished >= n && p.in_flight == 0.0)
        })
        .await?;
        anyhow::Ok(())
    }
    .await;
    stop_child(&mut child);
    r?;
    latency(
        brokers,
        &s.kafka.input_topic,
        &s.kafka.output_topic,
        args.latency_count as u64,
    )
}

/// Runs `app::run` in this process until `expect` messages are finished.
async fn measure_in_process(
    s: &Settings,
    brokers: &str,
    expect: u64,
    metrics: Metrics,
) -> anyhow::Result<RunStats> {
    let (stop, task) = start_in_process(s, brokers, metrics.clone())?;
    let m = metrics.clone();
    let st = follow(std::process::id(), expect, None, move || {
        Some(in_process_progress(&m))
    })
    .await;
    stop.cancel();
    task.await??;
    st
}

type InProcess = (
    CancellationToken,
    tokio::task::JoinHandle<anyhow::Result<()>>,
);

/// `app::run` on this runtime; `metrics` must be registered in no other registry's
/// exposition that matters (a fresh registry is used for /metrics).
fn start_in_process(s: &Settings, brokers: &str, metrics: Metrics) -> anyhow::Result<InProcess> {
    let mut s = s.clone();
    s.kafka.brokers = brokers.to_owned();
    s.http.listen = "127.0.0.1:0".into();
    let registry = prometheus::Registry::new();
    let stop = CancellationToken::new();
    let task = tokio::spawn(newsflow::app::run(
        s,
        registry,
        metrics.clone(),
        stop.clone(),
        None,
    ));
    Ok((stop, task))
}

fn in_process_progress(m: &Metrics) -> Progress {
    let published = m.published() as f64;
    Progress {
        consumed: m.consumed() as f64,
        finished: published + m.duplicates() as f64 + m.dead_letters() as f64,
        published,
        in_flight: m.in_flight.get() as f64,
        ready: m.is_ready(),
    }
}

async fn latency_in_process(
    s: &Settings,
    brokers: &str,
    args: &RunArgs,
) -> anyhow::Result<(Option<f64>, Option<f64>, Option<f64>)> {
    let metrics = Metrics::new(&prometheus::Registry::new())?;
    let (stop, task) = start_in_process(s, brokers, metrics.clone())?;
    let r = async {
        wait_until(Duration::from_secs(60), || metrics.is_ready()).await?;
        feed(
            brokers,
            &s.kafka.input_topic,
            &latency_corpus(args),
            Some(args.latency_rate),
        )
        .await?;
        let n = args.latency_count as f64;
        wait_until(Duration::from_secs(120), || {
            let p = in_process_progress(&metrics);
            p.finished >= n && p.in_flight == 0.0
        })
        .await?;
        anyhow::Ok(())
    }
    .await;
    stop.cancel();
    task.await??;
    r?;
    latency(
        brokers,
        &s.kafka.input_topic,
        &s.kafka.output_topic,
        args.latency_count as u64,
    )
}

// ---------------------------------------------------------------------------------------
// Reading topics back

/// One record read back: (partition, offset, timestamp ms, source position if any).
type ReadBack = (i32, i64, i64, Option<(i32, i64)>);

/// Every record of a topic.
fn read_all(brokers: &str, topic: &str, expect: u64) -> anyhow::Result<Vec<ReadBack>> {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", format!("bench.read.{topic}"))
        .set("enable.auto.commit", "false")
        .set("fetch.wait.max.ms", "10")
        .create()?;
    let n = partitions_of(brokers, topic)?;
    let mut tpl = TopicPartitionList::new();
    let mut total = 0i64;
    for p in 0..n {
        let (lo, hi) = c.fetch_watermarks(topic, p, Duration::from_secs(10))?;
        total += hi - lo;
        tpl.add_partition_offset(topic, p, Offset::Beginning)?;
    }
    if (total as u64) < expect {
        bail!("{topic} holds {total} records, expected at least {expect}");
    }
    c.assign(&tpl)?;
    let mut out = Vec::with_capacity(total as usize);
    let deadline = Instant::now() + Duration::from_secs(300);
    while (out.len() as i64) < total {
        if Instant::now() > deadline {
            bail!("read {} of {total} records of {topic}", out.len());
        }
        let Some(r) = c.poll(Duration::from_millis(200)) else {
            continue;
        };
        let m = r?;
        let ts = m.timestamp().to_millis().unwrap_or(0);
        out.push((m.partition(), m.offset(), ts, source_position(&m)));
    }
    Ok(out)
}

/// The input position a record came from: headers (pass-through) or `ingest` (records).
fn source_position(m: &rdkafka::message::BorrowedMessage<'_>) -> Option<(i32, i64)> {
    if let Some(h) = m.headers() {
        let get = |name: &str| {
            h.iter()
                .find(|x| x.key == name)
                .and_then(|x| x.value)
                .and_then(|v| std::str::from_utf8(v).ok())
                .map(str::to_owned)
        };
        if let (Some(p), Some(o)) = (
            get(newsflow::app::HEADER_SOURCE_PARTITION),
            get(newsflow::app::HEADER_SOURCE_OFFSET),
        ) {
            return Some((p.parse().ok()?, o.parse().ok()?));
        }
    }
    #[derive(Deserialize)]
    struct Ingest {
        partition: i32,
        offset: i64,
    }
    #[derive(Deserialize)]
    struct Rec {
        ingest: Ingest,
    }
    let r: Rec = serde_json::from_slice(m.payload()?).ok()?;
    Some((r.ingest.partition, r.ingest.offset))
}

/// (p50, p99, max) of output timestamp − input timestamp, milliseconds.
fn latency(
    brokers: &str,
    input: &str,
    output: &str,
    expect: u64,
) -> anyhow::Result<(Option<f64>, Option<f64>, Option<f64>)> {
    let inputs: HashMap<(i32, i64), i64> = read_all(brokers, input, expect)?
        .into_iter()
        .map(|(p, o, ts, _)| ((p, o), ts))
        .collect();
    let mut lat: Vec<i64> = read_all(brokers, output, 1)?
        .into_iter()
        .filter_map(|(_, _, ts, src)| Some(ts - inputs.get(&src?)?))
        .collect();
    if lat.is_empty() {
        return Ok((None, None, None));
    }
    lat.sort_unstable();
    let q = |f: f64| lat[((lat.len() - 1) as f64 * f).round() as usize] as f64;
    Ok((Some(q(0.5)), Some(q(0.99)), Some(q(1.0))))
}

// ---------------------------------------------------------------------------------------
// Dedup window scaling (no Kafka)

fn window(sizes: &[usize], count: usize, size: usize) -> anyhow::Result<()> {
    use newsflow::pipeline::{Pipeline, PipelineOptions, SourceMeta};
    let payloads: Vec<Vec<u8>> = Corpus::generate(CorpusOptions::new(size, 42), count)
        .into_iter()
        .map(|m| m.payload)
        .collect();
    let bytes: usize = payloads.iter().map(Vec::len).sum();
    println!(
        "| indexed articles | RSS growth MB | RSS bytes per article | index's own estimate, bytes per article | fill s | articles/s | MB/s |"
    );
    println!("|---|---|---|---|---|---|---|");
    let me = std::process::id();
    for &n in sizes {
        let mut opts = PipelineOptions::default();
        opts.dedup.max_entries = n;
        let metrics = Metrics::new(&prometheus::Registry::new())?;
        let pipeline = Pipeline::new(opts, metrics.clone())?;
        let before = rss(me);
        let now = chrono::Utc::now();
        let stamp = now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let t = Instant::now();
        for i in 0..n as u64 {
            if !pipeline.remember(&synthetic_record(i, &stamp), now) {
                bail!("synthetic record {i} was not accepted");
            }
        }
        let fill = t.elapsed().as_secs_f64();
        let index = rss(me).saturating_sub(before);
        let estimate = metrics.dedup_bytes.get() as f64 / metrics.dedup_entries.get().max(1) as f64;
        let t = Instant::now();
        for (k, p) in payloads.iter().enumerate() {
            let meta = SourceMeta {
                topic: "articles.raw",
                partition: 0,
                offset: k as i64,
                received_at: now,
            };
            std::hint::black_box(pipeline.process(p, &meta, now));
        }
        let secs = t.elapsed().as_secs_f64();
        println!(
            "| {n} | {:.0} | {:.0} | {estimate:.0} | {fill:.1} | {:.0} | {:.1} |",
            index as f64 / 1e6,
            index as f64 / n as f64,
            count as f64 / secs,
            bytes as f64 / secs / 1e6
        );
        drop(pipeline);
    }
    Ok(())
}

fn pipeline(corpus: &CorpusArgs, records_to: Option<&std::path::Path>) -> anyhow::Result<()> {
    use newsflow::pipeline::{Pipeline, PipelineOptions, SourceMeta};
    let payloads: Vec<Vec<u8>> =
        Corpus::generate(CorpusOptions::new(corpus.size, corpus.seed), corpus.count)
            .into_iter()
            .map(|m| m.payload)
            .collect();
    let bytes: usize = payloads.iter().map(Vec::len).sum();
    let metrics = Metrics::new(&prometheus::Registry::new())?;
    let pipeline = Pipeline::new(PipelineOptions::default(), metrics)?;
    let now = match records_to {
        Some(_) => chrono::DateTime::from_timestamp(1_767_225_600, 0).expect("valid time"),
        None => chrono::Utc::now(),
    };
    let mut out = Vec::new();
    let t = Instant::now();
    let (mut records, mut record_bytes) = (0usize, 0usize);
    for (k, p) in payloads.iter().enumerate() {
        let meta = SourceMeta {
            topic: "articles.raw",
            partition: 0,
            offset: k as i64,
            received_at: now,
        };
        if let newsflow::pipeline::Outcome::Publish { payload, .. } =
            std::hint::black_box(pipeline.process(p, &meta, now))
        {
            records += 1;
            record_bytes += payload.len();
            if records_to.is_some() {
                out.extend_from_slice(&payload);
                out.push(b'\n');
            }
        }
    }
    let secs = t.elapsed().as_secs_f64();
    if let Some(path) = records_to {
        std::fs::write(path, &out).with_context(|| format!("writing {}", path.display()))?;
    }
    println!(
        "{} articles in {secs:.2}s: {:.0} articles/s, {:.1} MB/s; {records} records of {} bytes on average",
        corpus.count,
        corpus.count as f64 / secs,
        bytes as f64 / secs / 1e6,
        record_bytes / records.max(1)
    );
    Ok(())
}

/// A published record as the changelog reads it back (the fields the index needs) for a
/// made-up 400-word article: distinct `i` give unrelated ids, hashes and band keys.
fn synthetic_record(i: u64, now: &str) -> Vec<u8> {
    let fp = newsflow::dedup::eval::random_fingerprint(i);
    serde_json::to_vec(&serde_json::json!({
        "id": format!("{:032x}", fp.id),
        "revision": 1,
        "url": format!("https://www.example.com/news/{i}"),
        "published_at": now,
        "modified_at": null,
        "ingest": {"received_at": now},
        "fingerprints": fp.to_record(),
    }))
    .expect("serializes")
}

// ---------------------------------------------------------------------------------------
// Process accounting from /proc

/// Clock ticks per second of /proc times (USER_HZ, 100 on Linux).
const TICKS: f64 = 100.0;

fn stat_cpu(path: &str) -> Option<f64> {
    let s = std::fs::read_to_string(path).ok()?;
    // Fields after the parenthesised name: state is field 3; utime 14, stime 15.
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    let ut: f64 = f.get(11)?.parse().ok()?;
    let st: f64 = f.get(12)?.parse().ok()?;
    Some((ut + st) / TICKS)
}

fn process_cpu(pid: u32) -> f64 {
    stat_cpu(&format!("/proc/{pid}/stat")).unwrap_or(0.0)
}

/// Threads that belong to the broker (the in-process mock cluster).
fn is_broker_thread(name: &str) -> bool {
    name.starts_with("rdk:mock") || name == "embedded-broker"
}

/// CPU seconds of every live thread of a process, by thread id: (name, seconds).
fn threads(pid: u32) -> HashMap<u64, (String, f64)> {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return HashMap::new();
    };
    dir.filter_map(|e| {
        let p = e.ok()?.path();
        let tid = p.file_name()?.to_str()?.parse().ok()?;
        let name = std::fs::read_to_string(p.join("comm")).ok()?;
        let cpu = stat_cpu(p.join("stat").to_str()?)?;
        Some((tid, (name.trim().to_owned(), cpu)))
    })
    .collect()
}

/// CPU accounting of a process over a span, broker threads set apart.
struct CpuSpan {
    pid: u32,
    process: f64,
    threads: HashMap<u64, (String, f64)>,
    broker_pid: Option<u32>,
    broker: Option<f64>,
}

impl CpuSpan {
    fn start(pid: u32, broker_pid: Option<u32>) -> CpuSpan {
        CpuSpan {
            pid,
            process: process_cpu(pid),
            threads: threads(pid),
            broker_pid,
            broker: broker_pid.map(process_cpu),
        }
    }

    /// (process CPU without broker threads, broker CPU, CPU by thread group).
    fn end(&self) -> (f64, Option<f64>, Vec<(String, f64)>) {
        let mut groups: HashMap<String, f64> = HashMap::new();
        for (tid, (name, cpu)) in threads(self.pid) {
            let before = self
                .threads
                .get(&tid)
                .filter(|(n, _)| *n == name)
                .map_or(0.0, |(_, c)| *c);
            let group = if is_broker_thread(&name) {
                "mock broker".to_owned()
            } else if name.starts_with("newsflow-worker") {
                "workers".to_owned()
            } else if name.starts_with("rdk:") {
                "librdkafka".to_owned()
            } else if name.starts_with("tokio") {
                "tokio".to_owned()
            } else {
                name
            };
            *groups.entry(group).or_default() += cpu - before;
        }
        let in_process_broker = groups.get("mock broker").copied();
        let total = process_cpu(self.pid) - self.process - in_process_broker.unwrap_or(0.0);
        let broker = match (self.broker_pid, self.broker) {
            (Some(p), Some(c)) => Some(process_cpu(p) - c),
            _ => in_process_broker,
        };
        let mut v: Vec<_> = groups
            .into_iter()
            .filter(|(n, c)| *c >= 0.01 && n != "mock broker")
            .collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1));
        (total, broker, v)
    }
}

fn status_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn rss(pid: u32) -> u64 {
    status_kb(pid, "VmRSS:") * 1024
}

fn peak_rss(pid: u32) -> u64 {
    status_kb(pid, "VmHWM:") * 1024
}

/// Resets the process's peak resident size to the current one (Linux `clear_refs` 5).
fn reset_peak_rss(pid: u32) {
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
}

/// Samples resident memory of this process while a pass-through runs.
struct RssSampler {
    mid: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl RssSampler {
    fn start(pid: u32) -> RssSampler {
        let mid = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (m, s) = (mid.clone(), stop.clone());
        // Resident size halfway through the run, by time.
        let handle = std::thread::spawn(move || {
            let start = Instant::now();
            let mut samples = Vec::new();
            while !s.load(Ordering::Relaxed) {
                samples.push((start.elapsed(), rss(pid)));
                std::thread::sleep(Duration::from_millis(50));
            }
            let half = start.elapsed() / 2;
            if let Some((_, r)) = samples.iter().find(|(t, _)| *t >= half) {
                m.store(*r, Ordering::Relaxed);
            }
        });
        RssSampler {
            mid,
            stop,
            handle: Some(handle),
        }
    }

    /// (RSS at half time, RSS now, peak RSS).
    fn finish(mut self, pid: u32) -> (u64, u64, u64) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
        (self.mid.load(Ordering::Relaxed), rss(pid), peak_rss(pid))
    }
}
