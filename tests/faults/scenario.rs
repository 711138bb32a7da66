//! One scenario's broker(s), topics and group; feeding, waiting for commits, and the shared
//! checker that compares the output and dead-letter topics with what was fed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::common::real::*;
use crate::common::*;
use crate::corpus::Expected;
use crate::FAST;

/// What [`Scenario::check`] found.
#[derive(Debug)]
pub struct Figures {
    pub published: usize,
    pub dead_lettered: usize,
}

/// Where a scenario's topics live.
enum Backend {
    Tansu(Tansu),
    /// librdkafka's mock cluster in this process, which `newsflow` and the Python client
    /// reach over TCP like any broker; for volumes Tansu cannot serve in reasonable time.
    Mock {
        broker: Broker,
        dir: tempfile::TempDir,
    },
}

/// One broker, one set of topics and a group, what was fed; prints the newsflow and broker
/// log tails if the test fails, and the time it took.
pub struct Scenario {
    pub name: &'static str,
    started: Instant,
    pub partitions: i32,
    pub names: Names,
    pub expected: Expected,
    backend: Backend,
    /// A second broker for the output and dead-letter topics (newsflow's producer writes
    /// there), so that the output can fail while the input stays readable.
    output_broker: Option<Tansu>,
}

impl Scenario {
    /// On a Tansu broker process.
    pub fn new(name: &'static str, partitions: i32) -> Scenario {
        let broker = Tansu::start();
        let names = Names::new();
        for t in [&names.input, &names.output, &names.dlq] {
            broker.create_topic(t, partitions);
        }
        Scenario::with(name, partitions, names, Backend::Tansu(broker))
    }

    /// On the mock cluster, which keeps at most 5 MiB per partition (older messages are
    /// dropped, as by retention): enough partitions must hold what each topic receives.
    pub fn on_mock_cluster(name: &'static str, partitions: [i32; 3]) -> Scenario {
        let broker = Broker::start();
        let names = Names::new();
        for (t, n) in [&names.input, &names.output, &names.dlq]
            .iter()
            .zip(partitions)
        {
            broker.cluster.create_topic(t, n, 1).unwrap();
        }
        let dir = tempfile::tempdir().unwrap();
        Scenario::with(name, partitions[0], names, Backend::Mock { broker, dir })
    }

    fn with(name: &'static str, partitions: i32, names: Names, backend: Backend) -> Scenario {
        Scenario {
            name,
            started: Instant::now(),
            partitions,
            names,
            expected: Expected::default(),
            backend,
            output_broker: None,
        }
    }

    /// Moves the output (and dead letters) to a broker of its own.
    pub fn with_output_broker(mut self) -> Scenario {
        let broker = Tansu::start();
        // The input topic too: start-up checks every topic through the producer's brokers.
        for t in [&self.names.input, &self.names.output, &self.names.dlq] {
            broker.create_topic(t, self.partitions);
        }
        self.output_broker = Some(broker);
        self
    }

    pub fn output_tansu(&mut self) -> &mut Tansu {
        self.output_broker.as_mut().expect("an output broker")
    }

    /// Where the output and dead-letter topics are read.
    pub fn output_brokers(&self) -> String {
        match &self.output_broker {
            Some(b) => b.bootstrap(),
            None => self.brokers(),
        }
    }

    pub fn tansu(&mut self) -> &mut Tansu {
        match &mut self.backend {
            Backend::Tansu(t) => t,
            Backend::Mock { .. } => panic!("{} runs on the mock cluster", self.name),
        }
    }

    pub fn brokers(&self) -> String {
        match &self.backend {
            Backend::Tansu(t) => t.bootstrap(),
            Backend::Mock { broker, .. } => broker.bootstrap.clone(),
        }
    }

    pub fn dir(&self) -> PathBuf {
        match &self.backend {
            Backend::Tansu(t) => t.dir.path().to_owned(),
            Backend::Mock { dir, .. } => dir.path().to_owned(),
        }
    }

    pub fn secs(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// Starts a replica with [`FAST`] settings, `extra` replacing them by key.
    pub fn start(&self, extra: &[(&str, &str)]) -> Newsflow {
        let mut set: Vec<(&str, &str)> = FAST
            .iter()
            .filter(|(k, _)| !extra.iter().any(|(e, _)| e == k))
            .copied()
            .collect();
        set.extend_from_slice(extra);
        let output = self.output_brokers();
        if self.output_broker.is_some() {
            set.push(("kafka.producer_properties.bootstrap.servers", &output));
        }
        Newsflow::start(&self.brokers(), &self.names, &set, &self.dir())
    }

    /// Writes `messages` as an NDJSON file to feed later; counts them as fed.
    pub fn prepare(&mut self, label: &str, messages: &[Vec<u8>]) -> PathBuf {
        let path = self.dir().join(format!("{label}.ndjson"));
        let mut data = Vec::new();
        for m in messages {
            assert!(!m.contains(&b'\n') && !m.trim_ascii().is_empty());
            data.extend_from_slice(m);
            data.push(b'\n');
        }
        std::fs::write(&path, data).unwrap();
        self.expected.fed += messages.len();
        path
    }

    /// Feeds `messages` now, one per line.
    pub fn feed(&mut self, label: &str, messages: &[Vec<u8>]) {
        let path = self.prepare(label, messages);
        let t = Instant::now();
        let n = feed(&self.brokers(), &self.names.input, &[&path], true);
        assert_eq!(n, messages.len());
        println!(
            "{}: fed {label}: {n} messages in {:.1}s (at {:.1}s)",
            self.name,
            t.elapsed().as_secs_f64(),
            self.secs()
        );
    }

    /// Feeds each message as a file of its own (for messages with newlines).
    pub fn feed_files(&mut self, label: &str, messages: &[Vec<u8>]) {
        let dir = self.dir();
        let paths: Vec<PathBuf> = (0..messages.len())
            .map(|i| dir.join(format!("{label}-{i}.msg")))
            .collect();
        for (p, m) in paths.iter().zip(messages) {
            std::fs::write(p, m).unwrap();
        }
        let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
        assert_eq!(
            feed(&self.brokers(), &self.names.input, &refs, false),
            messages.len()
        );
        self.expected.fed += messages.len();
    }

    /// Sum of the group's committed input offsets: every message before them is finished.
    pub fn committed(&self) -> i64 {
        committed_total(
            &self.brokers(),
            &self.names.group,
            &self.names.input,
            self.partitions,
        )
    }

    /// Waits until the group has committed every input offset fed, while `replicas` run.
    pub fn wait_committed(&self, secs: u64, replicas: &mut [&mut Newsflow]) {
        let fed = self.expected.fed as i64;
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let c = self.committed();
            assert!(c <= fed, "committed {c} past the {fed} offsets fed");
            if c == fed {
                println!(
                    "{}: all {fed} input offsets committed (at {:.1}s)",
                    self.name,
                    self.secs()
                );
                return;
            }
            for r in replicas.iter_mut() {
                assert!(r.is_running(), "a replica exited; log:\n{}", r.log_text());
            }
            assert!(
                Instant::now() < deadline,
                "{}: committed {c} of {fed} input offsets after {secs}s",
                self.name
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// Reads the output and dead-letter topics back and compares them with what was fed:
    /// every unique article exactly once, every bad message exactly once and
    /// byte-identical, nothing else. With `positions`, also reads the input topic back
    /// and checks each dead letter's source position holds the same bytes.
    pub fn check(&self, positions: bool) -> Figures {
        let e = &self.expected;
        let (brokers, output) = (self.brokers(), self.output_brokers());
        let t = Instant::now();
        let schema = schema();
        let out = drain_topic(&output, &self.names.output, e.urls.len(), 300);
        let mut per_url: BTreeMap<&str, usize> = BTreeMap::new();
        let mut unexpected: Vec<String> = Vec::new();
        let mut records = Vec::with_capacity(out.len());
        for m in &out {
            let Ok(v) = serde_json::from_slice::<serde_json::Value>(&m.value) else {
                unexpected.push(format!("not JSON: {}", String::from_utf8_lossy(&m.value)));
                continue;
            };
            records.push((m, v));
        }
        for (m, v) in &records {
            assert_valid(&schema, v);
            assert_eq!(
                m.key.as_deref(),
                v["id"].as_str().map(str::as_bytes),
                "keyed by id"
            );
            match v["url"].as_str().and_then(|u| e.urls.get(u)) {
                Some(u) => *per_url.entry(u.as_str()).or_default() += 1,
                None => unexpected.push(format!("record for {}", v["url"])),
            }
        }
        let lost: Vec<&String> = e
            .urls
            .iter()
            .filter(|u| !per_url.contains_key(u.as_str()))
            .collect();
        let twice: Vec<(&str, usize)> = per_url
            .iter()
            .filter(|(_, c)| **c > 1)
            .map(|(u, c)| (*u, *c))
            .collect();
        let duplicated: usize = twice.iter().map(|(_, c)| c - 1).sum();

        let dlq = drain_topic(&output, &self.names.dlq, e.bad.len(), 300);
        let input: BTreeMap<(i32, i64), Vec<u8>> = if positions {
            drain_topic(&brokers, &self.names.input, e.fed, 300)
                .into_iter()
                .map(|m| ((m.partition, m.offset), m.value))
                .collect()
        } else {
            BTreeMap::new()
        };
        let mut per_bad: BTreeMap<&[u8], usize> = BTreeMap::new();
        let mut wrong: Vec<String> = Vec::new();
        for d in &dlq {
            let Some((bytes, reason)) = e.bad.get_key_value(&d.value) else {
                unexpected.push(format!(
                    "dead letter {:?} ({})",
                    String::from_utf8_lossy(&d.value[..d.value.len().min(80)]),
                    d.header("newsflow-error")
                ));
                continue;
            };
            *per_bad.entry(bytes.as_slice()).or_default() += 1;
            if d.header("newsflow-error") != *reason {
                wrong.push(format!(
                    "reason {} instead of {reason}",
                    d.header("newsflow-error")
                ));
            }
            if d.header("newsflow-source-topic") != self.names.input {
                wrong.push(format!(
                    "source topic {}",
                    d.header("newsflow-source-topic")
                ));
            }
            let pos = (
                d.header("newsflow-source-partition").parse::<i32>(),
                d.header("newsflow-source-offset").parse::<i64>(),
            );
            match pos {
                (Ok(p), Ok(o)) if positions && input.get(&(p, o)) != Some(&d.value) => {
                    wrong.push(format!("input at {p}@{o} is not the dead letter's bytes"))
                }
                (Ok(_), Ok(_)) => {}
                _ => wrong.push("no source position headers".into()),
            }
        }
        let bad_lost = e.bad.len() - per_bad.len();
        let bad_twice: usize = per_bad.values().map(|c| c - 1).sum();

        println!(
            "{}: fed {} = {} unique + {} copies + {} bad; published {} records ({} lost, {} duplicated), \
             dead-lettered {} ({} lost, {} duplicated); {} unexpected; checked in {:.1}s",
            self.name,
            e.fed,
            e.urls.len(),
            e.copies,
            e.bad.len(),
            out.len(),
            lost.len(),
            duplicated,
            dlq.len(),
            bad_lost,
            bad_twice,
            unexpected.len(),
            t.elapsed().as_secs_f64(),
        );
        assert!(
            lost.is_empty(),
            "{} unique articles missing from the output, e.g. {:?}",
            lost.len(),
            &lost[..lost.len().min(5)]
        );
        assert!(
            twice.is_empty(),
            "{duplicated} extra records: {:?}",
            &twice[..twice.len().min(5)]
        );
        assert!(
            unexpected.is_empty(),
            "unexpected messages: {:?}",
            &unexpected[..unexpected.len().min(5)]
        );
        assert_eq!(
            (bad_lost, bad_twice),
            (0, 0),
            "each bad message dead-lettered exactly once"
        );
        assert!(
            wrong.is_empty(),
            "dead-letter headers: {:?}",
            &wrong[..wrong.len().min(5)]
        );
        Figures {
            published: out.len(),
            dead_lettered: dlq.len(),
        }
    }
}

impl Drop for Scenario {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let mut dirs = vec![self.dir()];
            dirs.extend(self.output_broker.as_ref().map(|b| b.dir.path().to_owned()));
            let mut logs: Vec<PathBuf> = dirs
                .iter()
                .filter_map(|d| std::fs::read_dir(d).ok())
                .flat_map(|d| d.filter_map(|e| e.ok().map(|e| e.path())))
                .collect();
            logs.retain(|p| p.extension().is_some_and(|e| e == "log"));
            logs.sort();
            for log in logs {
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                // librdkafka statistics dumps (lines of ~10 KB) would hide the rest.
                let lines: Vec<&str> = text
                    .lines()
                    .filter(|l| !l.contains("Client stats"))
                    .collect();
                eprintln!(
                    "----- {} (last lines) -----\n{}",
                    log.file_name().unwrap().to_string_lossy(),
                    lines[lines.len().saturating_sub(60)..].join("\n")
                );
            }
        }
        println!("{}: took {:.1}s", self.name, self.secs());
    }
}

/// Polls `cond` every 20 ms; panics with `what` after `secs`.
pub fn wait_until(secs: u64, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out after {secs}s: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One series of a metric: `labels` as written in the exposition, e.g. `reason="x"`.
pub fn series(svc: &Newsflow, name: &str, labels: &str) -> f64 {
    let (_, text) = svc.get("/metrics");
    let prefix = format!("{name}{{{labels}}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix)?.trim().parse().ok())
        .unwrap_or(0.0)
}
