//! Real-broker harness: a Tansu broker process with SQLite storage on a free loopback
//! port, the `newsflow` binary as a separate process, and the Python `confluent-kafka`
//! client (tests/support/kafka_client.py) to feed and read topics.
//!
//! Nothing here skips: a missing broker or client fails the test with how to get it
//! (`scripts/e2e.sh` installs both).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn tansu_bin() -> PathBuf {
    let bin = std::env::var_os("TANSU_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| "tansu".into());
    let ok = Command::new(&bin)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("0.6.0"));
    assert!(
        matches!(ok, Ok(true)),
        "tansu 0.6.0 not found (TANSU_BIN or PATH). Run scripts/e2e.sh, which installs it, or: \
         cargo install tansu --version 0.6.0 --features dynostore,libsql"
    );
    bin
}

pub fn python() -> String {
    let py = std::env::var("NEWSFLOW_E2E_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = Command::new(&py)
        .args(["-c", "import confluent_kafka"])
        .status()
        .map(|s| s.success());
    assert!(
        matches!(ok, Ok(true)),
        "{py} cannot import confluent_kafka. Run scripts/e2e.sh (it makes a venv), or set NEWSFLOW_E2E_PYTHON \
         to a python with `pip install confluent-kafka`"
    );
    py
}

/// A Tansu broker process; storage survives `restart()`.
pub struct Tansu {
    pub dir: tempfile::TempDir,
    pub port: u16,
    /// The port clients are told to connect to (a proxy's, or `port` itself).
    pub advertised: u16,
    /// Extra `tansu broker` arguments (e.g. `--authentication`).
    args: Vec<String>,
    child: Option<Child>,
}

impl Tansu {
    pub fn start() -> Tansu {
        let port = free_port();
        Tansu::start_advertising(port, port)
    }

    /// Listens on `port` and advertises `advertised` (e.g. a TLS proxy in front of it).
    pub fn start_advertising(port: u16, advertised: u16) -> Tansu {
        let dir = tempfile::tempdir().unwrap();
        let mut t = Tansu {
            dir,
            port,
            advertised,
            args: Vec::new(),
            child: None,
        };
        t.spawn();
        t
    }

    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn spawn(&mut self) {
        let url = format!("tcp://127.0.0.1:{}", self.port);
        let advertised = format!("tcp://127.0.0.1:{}", self.advertised);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("broker.log"))
            .unwrap();
        // The SQLite path is relative to the broker's working directory (absolute paths are mangled).
        let child = Command::new(tansu_bin())
            .current_dir(self.dir.path())
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &advertised,
            ])
            .args(["--storage-engine", "sqlite://tansu.db"])
            .args(&self.args)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start tansu");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "tansu did not listen on {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn create_topic(&self, name: &str, partitions: i32) {
        let st = Command::new(tansu_bin())
            .current_dir(self.dir.path())
            .args([
                "topic",
                "create",
                name,
                "--partitions",
                &partitions.to_string(),
            ])
            .args(["--broker", &format!("tcp://127.0.0.1:{}", self.port)])
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(st.success(), "tansu topic create {name}");
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    /// Restarts the broker with extra `tansu broker` arguments (storage is kept).
    pub fn restart_with(&mut self, args: &[&str]) {
        self.args = args.iter().map(|a| a.to_string()).collect();
        self.restart();
    }

    /// Stores SCRAM credentials for `name` (`mechanism`: scram256 or scram512).
    pub fn create_user(&self, name: &str, password: &str, mechanism: &str) {
        let st = Command::new(tansu_bin())
            .current_dir(self.dir.path())
            .args(["user", "create", name, password, "--mechanism", mechanism])
            .args(["--broker", &format!("tcp://127.0.0.1:{}", self.port)])
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(st.success(), "tansu user create {name}");
    }
}

impl Drop for Tansu {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Publishes files (one message each) or their lines with the Python client.
pub fn feed(brokers: &str, topic: &str, files: &[&Path], lines: bool) -> usize {
    let mut cmd = Command::new(python());
    cmd.arg(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/support/kafka_client.py"
    ))
    .args(["produce", "--brokers", brokers, "--topic", topic]);
    if lines {
        cmd.arg("--lines");
    }
    let out = cmd.args(files).output().unwrap();
    assert!(
        out.status.success(),
        "produce failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

#[derive(Debug, Clone)]
pub struct Msg {
    pub partition: i32,
    pub offset: i64,
    pub key: Option<Vec<u8>>,
    pub value: Vec<u8>,
    pub headers: BTreeMap<String, Vec<u8>>,
}

impl Msg {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.value).expect("record is JSON")
    }
    pub fn header(&self, name: &str) -> String {
        String::from_utf8_lossy(
            self.headers
                .get(name)
                .map(Vec::as_slice)
                .unwrap_or_default(),
        )
        .into_owned()
    }
}

/// Reads a topic from the beginning with the Python client.
pub fn drain_topic(brokers: &str, topic: &str, expect: usize, timeout_secs: u64) -> Vec<Msg> {
    drain_topic_with(brokers, topic, expect, timeout_secs, &[])
}

/// [`drain_topic`] with extra librdkafka properties for the reader (e.g. TLS settings).
pub fn drain_topic_with(
    brokers: &str,
    topic: &str,
    expect: usize,
    timeout_secs: u64,
    config: &[(&str, &str)],
) -> Vec<Msg> {
    let mut cmd = Command::new(python());
    cmd.arg(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/support/kafka_client.py"
    ))
    .args(["consume", "--brokers", brokers, "--topic", topic])
    .args([
        "--expect",
        &expect.to_string(),
        "--timeout",
        &timeout_secs.to_string(),
    ]);
    for (k, v) in config {
        cmd.args(["--config", &format!("{k}={v}")]);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "consume failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let b64 = |v: &serde_json::Value| {
        v.as_str()
            .map(|s| base64::engine::general_purpose::STANDARD.decode(s).unwrap())
    };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            Msg {
                partition: v["partition"].as_i64().unwrap() as i32,
                offset: v["offset"].as_i64().unwrap(),
                key: b64(&v["key"]),
                value: b64(&v["value"]).unwrap_or_default(),
                headers: v["headers"]
                    .as_object()
                    .map(|h| {
                        h.iter()
                            .map(|(k, v)| (k.clone(), b64(v).unwrap_or_default()))
                            .collect()
                    })
                    .unwrap_or_default(),
            }
        })
        .collect()
}

/// The `newsflow` binary running as a separate process.
pub struct Newsflow {
    pub child: Child,
    pub http_port: u16,
    pub log: PathBuf,
}

impl Newsflow {
    /// Starts `newsflow run` with the given brokers and topics; `extra` are `--set` pairs.
    pub fn start(
        brokers: &str,
        names: &super::Names,
        extra: &[(&str, &str)],
        log_dir: &Path,
    ) -> Newsflow {
        let http_port = free_port();
        let log = log_dir.join(format!("newsflow-{http_port}.log"));
        let file = std::fs::File::create(&log).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_newsflow"));
        cmd.arg("run")
            .args([
                "--brokers",
                brokers,
                "--input-topic",
                &names.input,
                "--output-topic",
                &names.output,
            ])
            .args(["--dlq-topic", &names.dlq, "--group-id", &names.group])
            .args(["--listen", &format!("127.0.0.1:{http_port}")])
            // Tansu holds every fetch for fetch.wait.max.ms even when data is ready.
            .args(["--set", "kafka.consumer_properties.fetch.wait.max.ms=50"])
            .args(["--set", "kafka.statistics_interval_ms=1000"])
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(file);
        for (k, v) in extra {
            cmd.args(["--set", &format!("{k}={v}")]);
        }
        let child = cmd.spawn().expect("start newsflow");
        let n = Newsflow {
            child,
            http_port,
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", http_port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "newsflow did not serve http; log:\n{}",
                n.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        n
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A GET on the service's HTTP port: (status, body).
    pub fn get(&self, path: &str) -> (u16, String) {
        super::http_get(([127, 0, 0, 1], self.http_port).into(), path)
    }

    /// True while the process has not exited.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub fn metric(&self, name: &str) -> f64 {
        let (_, text) = super::http_get(([127, 0, 0, 1], self.http_port).into(), "/metrics");
        text.lines()
            .filter(|l| l.starts_with(name) && l[name.len()..].starts_with([' ', '{']))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }

    pub fn wait_metric(&self, name: &str, at_least: f64, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while self.metric(name) < at_least {
            assert!(
                Instant::now() < deadline,
                "{name} stayed below {at_least}; log:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn signal(&self, sig: &str) {
        let st = Command::new("kill")
            .args([&format!("-{sig}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(st.success());
    }

    /// Waits for exit; returns the exit code (None when killed by a signal).
    pub fn wait_exit(&mut self, secs: u64) -> Option<i32> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st.code();
            }
            assert!(
                Instant::now() < deadline,
                "newsflow did not exit within {secs}s; log:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Newsflow {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `kB` field of /proc/<pid>/status (`VmRSS`, `VmHWM`, ...) in KiB; None once the
/// process is gone.
pub fn proc_status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}
