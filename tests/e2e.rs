//! End to end against a real, separate broker process (Tansu 0.6.0 with SQLite storage),
//! the `newsflow` binary as its own process, and a client the project did not write
//! (Python confluent-kafka). Run with `scripts/e2e.sh` (installs what they need);
//! they are ignored by a plain `cargo test` and fail (never skip) without a broker.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use common::real::*;
use common::*;

fn samples() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/samples"))
}

/// Feeds the sample corpus (12 messages: 7 unique articles, 2 copies, 3 bad) with
/// `newsflow produce` and the given client properties.
fn produce_samples(brokers: &str, topic: &str, properties: &[(&str, &str)]) {
    let s = samples();
    let mut produce = std::process::Command::new(env!("CARGO_BIN_EXE_newsflow"));
    produce.args(["produce", "--brokers", brokers, "--topic", topic]);
    for (k, v) in properties {
        produce.args(["--property", &format!("{k}={v}")]);
    }
    let fed = produce
        .arg(s.join("articles.ndjson"))
        .arg(s.join("text/ferry-line.txt"))
        .arg(s.join("text/museum-reopens.txt"))
        .arg(s.join("bad-binary.bin"))
        .output()
        .unwrap();
    assert!(
        fed.status.success(),
        "newsflow produce: {}",
        String::from_utf8_lossy(&fed.stderr)
    );
}

/// Waits until the service has handled the sample corpus.
fn wait_samples_done(svc: &Newsflow) {
    svc.wait_metric("newsflow_messages_consumed_total", 12.0, 60);
    svc.wait_metric("newsflow_records_published_total", 7.0, 60);
    svc.wait_metric("newsflow_dead_letters_total", 3.0, 60);
}

/// A service the broker does not let in: client errors counted, not ready, nothing
/// consumed, and the log says `why`. Returns the log.
fn assert_refused(svc: &Newsflow, why: &str) -> String {
    svc.wait_metric("newsflow_kafka_errors_total", 1.0, 30);
    assert_eq!(svc.metric("newsflow_ready"), 0.0);
    assert_eq!(svc.metric("newsflow_messages_consumed_total"), 0.0);
    assert_eq!(svc.get("/readyz").0, 503);
    let log = svc.log_text();
    assert!(log.contains(why), "the log says why ({why}): {log}");
    log
}

fn setup(partitions: i32) -> (Tansu, Names) {
    let broker = Tansu::start();
    let names = Names::new();
    for t in [&names.input, &names.output, &names.dlq] {
        broker.create_topic(t, partitions);
    }
    (broker, names)
}

#[test]
#[ignore = "needs a real broker: run scripts/e2e.sh"]
fn real_broker_end_to_end() {
    let (broker, names) = setup(3);
    let brokers = broker.bootstrap();
    let mut svc = Newsflow::start(&brokers, &names, &[], broker.dir.path());
    let s = samples();
    let mut fed = feed(&brokers, &names.input, &[&s.join("articles.ndjson")], true);
    fed += feed(
        &brokers,
        &names.input,
        &[
            &s.join("text/ferry-line.txt"),
            &s.join("text/museum-reopens.txt"),
            &s.join("bad-binary.bin"),
        ],
        false,
    );
    assert_eq!(fed, 12);
    svc.wait_metric("newsflow_messages_consumed_total", 12.0, 60);
    svc.wait_metric("newsflow_records_published_total", 7.0, 60);
    svc.wait_metric("newsflow_dead_letters_total", 3.0, 60);

    let schema = schema();
    let out = drain_topic(&brokers, &names.output, 7, 30);
    assert_eq!(out.len(), 7, "one record per unique article");
    let ids: BTreeSet<String> = out
        .iter()
        .map(|m| m.json()["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 7);
    for m in &out {
        assert_valid(&schema, &m.json());
        assert_eq!(
            m.key.as_deref(),
            Some(m.json()["id"].as_str().unwrap().as_bytes())
        );
    }
    let dlq = drain_topic(&brokers, &names.dlq, 3, 30);
    assert_eq!(dlq.len(), 3);
    let inputs: Vec<Vec<u8>> = newsflow::demo::sample_corpus();
    for d in &dlq {
        assert!(
            inputs.contains(&d.value),
            "dead letter is byte-identical to an input"
        );
        assert!(!d.header("newsflow-error").is_empty());
        assert_eq!(d.header("newsflow-source-topic"), names.input);
    }
    assert_eq!(svc.metric("newsflow_duplicates_total"), 2.0);
    assert_eq!(svc.metric("newsflow_ready"), 1.0);

    svc.signal("TERM");
    assert_eq!(svc.wait_exit(30), Some(0), "SIGTERM drains and exits 0");
    assert!(svc.log_text().contains("committed offsets"));
}

#[test]
#[ignore = "needs a real broker: run scripts/e2e.sh"]
fn kill_9_between_publish_and_commit_redelivers() {
    let (broker, names) = setup(2);
    let brokers = broker.bootstrap();
    let dir = broker.dir.path().to_owned();
    let n = 200;
    let file = dir.join("articles.ndjson");
    // Every 20th message is bad data.
    let bad = |i: usize| i % 20 == 19;
    let lines: Vec<String> = (0..n)
        .map(|i| {
            if bad(i) {
                format!("{{\"title\": \"broken {i}")
            } else {
                String::from_utf8(article(i)).unwrap()
            }
        })
        .collect();
    let n_bad = (0..n).filter(|i| bad(*i)).count();
    let n_good = n - n_bad;
    std::fs::write(&file, lines.join("\n")).unwrap();
    feed(&brokers, &names.input, &[&file], true);

    // Commit only on shutdown: a kill -9 after publishing leaves every offset uncommitted.
    let no_autocommit = [(
        "kafka.consumer_properties.auto.commit.interval.ms",
        "3600000",
    )];
    let mut first = Newsflow::start(&brokers, &names, &no_autocommit, &dir);
    first.wait_metric("newsflow_records_published_total", n_good as f64, 90);
    first.wait_metric("newsflow_dead_letters_total", n_bad as f64, 90);
    first.signal("KILL");
    assert_eq!(first.wait_exit(10), None, "killed by a signal");

    // The restarted service gets every message again (nothing was committed past it),
    // rebuilds its dedup index from the output and dead-letter topics first, and so
    // publishes and dead-letters none twice.
    let second = Newsflow::start(&brokers, &names, &[], &dir);
    second.wait_metric("newsflow_messages_consumed_total", n as f64, 90);
    second.wait_metric("newsflow_duplicates_total", n_good as f64, 90);
    second.wait_metric("newsflow_dead_letter_redeliveries_total", n_bad as f64, 90);
    assert_eq!(
        second.metric("newsflow_dedup_rebuild_records_total"),
        n_good as f64
    );
    assert_eq!(second.metric("newsflow_records_published_total"), 0.0);
    assert_eq!(second.metric("newsflow_dead_letters_total"), 0.0);
    let out = drain_topic(&brokers, &names.output, n_good, 60);
    let mut per_url: BTreeMap<String, usize> = BTreeMap::new();
    for m in &out {
        *per_url
            .entry(m.json()["url"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    assert_eq!(per_url.len(), n_good, "every article is in the output");
    assert!(per_url.values().all(|c| *c == 1), "none published twice");
    let dlq = drain_topic(&brokers, &names.dlq, n_bad, 60);
    let positions: BTreeSet<String> = dlq
        .iter()
        .map(|d| {
            format!(
                "{}@{}",
                d.header("newsflow-source-offset"),
                d.header("newsflow-source-partition")
            )
        })
        .collect();
    assert_eq!(
        (dlq.len(), positions.len()),
        (n_bad, n_bad),
        "each bad message dead-lettered exactly once"
    );
}

/// An edited article (same URL, changed body, newer modified_at) is published again under
/// the same id with revision 2, also when the service restarted in between (the revision
/// number comes back with the rebuilt index).
#[test]
#[ignore = "needs a real broker: run scripts/e2e.sh"]
fn revision_is_published_under_the_same_id_across_a_restart() {
    let (broker, names) = setup(2);
    let brokers = broker.bootstrap();
    let dir = broker.dir.path().to_owned();
    let version = |body: &str, modified: &str| {
        serde_json::to_vec(&serde_json::json!({
            "title": "Port authority approves night ferries",
            "url": "https://harbour.example.com/news/night-ferries?utm_source=rss",
            "body": body,
            "published_at": "2026-11-27T08:00:00Z",
            "modified_at": modified,
        }))
        .unwrap()
    };
    let v1 = version(&words(11, 120), "2026-11-27T08:00:00Z");
    let v2 = version(
        &format!(
            "{} Correction: the service starts in March.",
            words(11, 120)
        ),
        "2026-11-27T12:30:00Z",
    );
    let file = |name: &str, bytes: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    let (f1, f2) = (file("v1.json", &v1), file("v2.json", &v2));

    let mut first = Newsflow::start(&brokers, &names, &[], &dir);
    feed(&brokers, &names.input, &[&f1], false);
    first.wait_metric("newsflow_records_published_total", 1.0, 60);
    first.signal("TERM");
    assert_eq!(first.wait_exit(30), Some(0));

    let second = Newsflow::start(&brokers, &names, &[], &dir);
    second.wait_metric("newsflow_ready", 1.0, 60);
    // The first version again (a resend) and then the edit.
    feed(&brokers, &names.input, &[&f1, &f2], false);
    second.wait_metric("newsflow_messages_consumed_total", 2.0, 60);
    second.wait_metric("newsflow_revisions_published_total", 1.0, 60);
    assert_eq!(
        second.metric("newsflow_duplicates_total"),
        1.0,
        "the resend is a duplicate"
    );

    let out = drain_topic(&brokers, &names.output, 2, 30);
    assert_eq!(out.len(), 2);
    let (a, b) = (out[0].json(), out[1].json());
    assert_eq!(a["id"], b["id"], "same id");
    let mut revisions = [
        a["revision"].as_u64().unwrap(),
        b["revision"].as_u64().unwrap(),
    ];
    revisions.sort();
    assert_eq!(revisions, [1, 2]);
    assert!(out
        .iter()
        .all(|m| m.key.as_deref() == Some(a["id"].as_str().unwrap().as_bytes())));
    assert_eq!(
        out[0].partition, out[1].partition,
        "same key, same output partition: compaction keeps the latest"
    );
}

/// `kafka.create_topics = true` creates missing topics through the admin API (the
/// in-process mock broker has no CreateTopics, so this runs against the real one).
#[test]
#[ignore = "needs a real broker: run scripts/e2e.sh"]
fn create_topics_makes_the_missing_topics() {
    let broker = Tansu::start();
    let names = Names::new();
    let brokers = broker.bootstrap();
    let svc = Newsflow::start(
        &brokers,
        &names,
        &[
            ("kafka.create_topics", "true"),
            ("kafka.topic_partitions", "2"),
        ],
        broker.dir.path(),
    );
    svc.wait_metric("newsflow_ready", 1.0, 60);
    assert_eq!(
        svc.metric("newsflow_assigned_partitions"),
        2.0,
        "input created with 2 partitions"
    );
    let file = broker.dir.path().join("one.json");
    std::fs::write(&file, article(7)).unwrap();
    feed(&brokers, &names.input, &[&file], false);
    svc.wait_metric("newsflow_records_published_total", 1.0, 60);
    assert!(svc.log_text().contains("created topic"));
}

/// A real Prometheus server scrapes a running `newsflow`; the counters it stored match
/// what was fed, the live scrape passes `promtool check metrics`, and every metric the
/// dashboard and alerts use is in it.
#[test]
#[ignore = "needs a real broker and Prometheus: run scripts/e2e.sh"]
fn prometheus_scrapes_what_was_fed() {
    use std::process::{Command, Stdio};
    for tool in ["prometheus", "promtool"] {
        let ok = Command::new(tool)
            .arg("--version")
            .output()
            .map(|o| o.status.success());
        assert!(
            matches!(ok, Ok(true)),
            "{tool} not found: install the Debian package `prometheus` (scripts/e2e.sh does)"
        );
    }
    let (broker, names) = setup(2);
    let brokers = broker.bootstrap();
    let dir = broker.dir.path().to_owned();
    let svc = Newsflow::start(&brokers, &names, &[], &dir);

    let prom_port = free_port();
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: newsflow\n    static_configs:\n      - targets: ['127.0.0.1:{}']\n",
            svc.http_port
        ),
    )
    .unwrap();
    let mut prom = Command::new("prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("tsdb").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{prom_port}"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("prometheus.log")).unwrap())
        .spawn()
        .expect("start prometheus");

    let s = samples();
    feed(&brokers, &names.input, &[&s.join("articles.ndjson")], true);
    feed(
        &brokers,
        &names.input,
        &[&s.join("text/ferry-line.txt"), &s.join("bad-binary.bin")],
        false,
    );
    // 9 lines (5 unique, 2 duplicates, 2 bad) + 1 text article + 1 binary.
    svc.wait_metric("newsflow_messages_consumed_total", 11.0, 60);
    svc.wait_metric("newsflow_records_published_total", 6.0, 60);

    let query = |q: &str| -> f64 {
        let path = format!(
            "/api/v1/query?query={}",
            q.replace('{', "%7B")
                .replace('}', "%7D")
                .replace('"', "%22")
        );
        let (status, body) = http_get(([127, 0, 0, 1], prom_port).into(), &path);
        if status != 200 {
            return f64::NAN;
        }
        let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        v["data"]["result"][0]["value"][1]
            .as_str()
            .and_then(|x| x.parse().ok())
            .unwrap_or(f64::NAN)
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let expected = [
        ("sum(newsflow_records_published_total)", 6.0),
        ("sum(newsflow_duplicates_total)", 2.0),
        ("sum(newsflow_dead_letters_total)", 3.0),
        ("sum(newsflow_messages_consumed_total)", 11.0),
    ];
    loop {
        let got: Vec<f64> = expected.iter().map(|(q, _)| query(q)).collect();
        if got.iter().zip(&expected).all(|(g, (_, e))| g == e) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "prometheus saw {got:?}, expected {expected:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    assert_eq!(
        query("newsflow_dead_letters_total{reason=\"invalid_json\"}"),
        1.0
    );
    assert_eq!(query("newsflow_duplicates_total{kind=\"url\"}"), 1.0);

    // The live scrape is valid exposition format and has every metric the dashboard uses.
    // Lag per partition appears once the client's statistics know a committed offset.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let scrape = loop {
        let (_, scrape) = http_get(([127, 0, 0, 1], svc.http_port).into(), "/metrics");
        if scrape.contains("newsflow_consumer_lag_messages{")
            || std::time::Instant::now() > deadline
        {
            break scrape;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    };
    let scrape_file = dir.join("scrape.prom");
    std::fs::write(&scrape_file, &scrape).unwrap();
    let check = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::fs::File::open(&scrape_file).unwrap())
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "promtool check metrics: {}",
        String::from_utf8_lossy(&check.stdout)
    );
    let root = env!("CARGO_MANIFEST_DIR");
    let dash = Command::new("python3")
        .arg(format!("{root}/scripts/dashboard_metrics.py"))
        .arg("--alerts")
        .arg(format!("{root}/deploy/prometheus/alerts.yml"))
        .arg(format!("{root}/deploy/grafana/newsflow-dashboard.json"))
        .arg(&scrape_file)
        .output()
        .unwrap();
    assert!(
        dash.status.success(),
        "dashboard uses metrics the service does not export: {}{}",
        String::from_utf8_lossy(&dash.stdout),
        String::from_utf8_lossy(&dash.stderr)
    );
    let _ = prom.kill();
    let _ = prom.wait();
}

#[test]
#[ignore = "needs a real broker: run scripts/e2e.sh"]
fn tls_with_a_client_certificate_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let pki = tls::Pki::generate(dir.path());
    let proxy_port = free_port();
    let broker = Tansu::start_advertising(free_port(), proxy_port);
    let proxy = tls::TlsProxy::start(proxy_port, broker.port, &pki, true);
    let names = Names::new();
    for t in [&names.input, &names.output, &names.dlq] {
        broker.create_topic(t, 2);
    }
    let brokers = format!("127.0.0.1:{proxy_port}");
    // The key's passphrase comes from a file, as from a mounted secret.
    let passphrase_file = dir.path().join("key-passphrase");
    std::fs::write(&passphrase_file, tls::KEY_PASSPHRASE).unwrap();
    let (ca, cert, key) = (
        pki.path("ca.pem"),
        pki.path("client.pem"),
        pki.path("client.key"),
    );
    let client = [
        ("security.protocol", "ssl"),
        ("ssl.ca.location", ca.as_str()),
        ("ssl.certificate.location", cert.as_str()),
        ("ssl.key.location", key.as_str()),
    ];
    // The service's settings (`--set`), trusting `ca`.
    let settings = |ca: &str| -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = client
            .iter()
            .map(|(k, v)| (format!("kafka.properties.{k}"), v.to_string()))
            .collect();
        v[1].1 = ca.to_owned();
        v.push((
            "kafka.property_files.ssl.key.password".to_owned(),
            passphrase_file.to_string_lossy().into_owned(),
        ));
        v
    };
    let start = |names: &Names, ca: &str| {
        let sets = settings(ca);
        let sets: Vec<(&str, &str)> = sets.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        Newsflow::start(&brokers, names, &sets, broker.dir.path())
    };
    let mut svc = start(&names, &ca);

    // Feed through the same TLS listener with newsflow's own producer.
    let reader: Vec<(&str, &str)> = client
        .iter()
        .copied()
        .chain([("ssl.key.password", tls::KEY_PASSPHRASE)])
        .collect();
    produce_samples(&brokers, &names.input, &reader);
    wait_samples_done(&svc);

    let out = drain_topic_with(&brokers, &names.output, 7, 30, &reader);
    assert_eq!(out.len(), 7, "one record per unique article, read over TLS");
    let schema = schema();
    for m in &out {
        assert_valid(&schema, &m.json());
    }
    let accepted = proxy
        .log()
        .iter()
        .filter(|l| l.starts_with("accepted newsflow TLSv1."))
        .count();
    assert!(
        accepted >= 3,
        "every connection went through TLS with the client certificate: {:?}",
        proxy.log()
    );

    // A CA that did not sign the broker's certificate: no connection, not ready, errors
    // counted, nothing consumed.
    let names2 = Names {
        group: common::unique("group"),
        ..names.clone()
    };
    let mut untrusting = start(&names2, &pki.path("other-ca.pem"));
    let log = assert_refused(&untrusting, "certificate verify failed");

    // The passphrase never appears in logs or in check-config.
    let check = std::process::Command::new(env!("CARGO_BIN_EXE_newsflow"))
        .arg("check-config")
        .env(
            "NEWSFLOW__KAFKA__PROPERTIES__SSL__KEY__PASSWORD",
            tls::KEY_PASSPHRASE,
        )
        .output()
        .unwrap();
    assert!(check.status.success());
    let shown = String::from_utf8_lossy(&check.stdout);
    assert!(shown.contains("ssl.key.password"), "{shown}");
    for text in [&shown.into_owned(), &svc.log_text(), &log] {
        assert!(!text.contains(tls::KEY_PASSPHRASE));
    }

    untrusting.signal("TERM");
    assert_eq!(untrusting.wait_exit(30), Some(0));
    svc.signal("TERM");
    assert_eq!(svc.wait_exit(30), Some(0), "SIGTERM drains and exits 0");
}

#[test]
#[ignore = "needs a real broker: run scripts/e2e.sh"]
fn sasl_scram_end_to_end() {
    const SERVICE_PASSWORD: &str = "service-pw-5d1e";
    const FEEDER_PASSWORD: &str = "feeder-pw-77c0";
    let (mut broker, names) = setup(2);
    // Users are stored before authentication is switched on (storage survives the restart).
    broker.create_user("newsflow", SERVICE_PASSWORD, "scram512");
    broker.create_user("feeder", FEEDER_PASSWORD, "scram256");
    broker.restart_with(&["--authentication"]);
    let brokers = broker.bootstrap();
    let dir = tempfile::tempdir().unwrap();
    // The service: SCRAM-SHA-512, its password from a file (as from a mounted secret).
    let start = |names: &Names, password: &str| {
        let file = dir.path().join(format!("password-{}", names.group));
        std::fs::write(&file, password).unwrap();
        let file = file.to_string_lossy().into_owned();
        let sets = [
            ("kafka.properties.security.protocol", "sasl_plaintext"),
            ("kafka.properties.sasl.mechanism", "SCRAM-SHA-512"),
            ("kafka.properties.sasl.username", "newsflow"),
            ("kafka.property_files.sasl.password", file.as_str()),
        ];
        Newsflow::start(&brokers, names, &sets, broker.dir.path())
    };
    let mut svc = start(&names, SERVICE_PASSWORD);
    // The feeder and the reader: another user, SCRAM-SHA-256.
    let feeder = [
        ("security.protocol", "sasl_plaintext"),
        ("sasl.mechanism", "SCRAM-SHA-256"),
        ("sasl.username", "feeder"),
        ("sasl.password", FEEDER_PASSWORD),
    ];
    produce_samples(&brokers, &names.input, &feeder);
    wait_samples_done(&svc);
    let out = drain_topic_with(&brokers, &names.output, 7, 30, &feeder);
    assert_eq!(
        out.len(),
        7,
        "one record per unique article, read with SCRAM"
    );
    let schema = schema();
    for m in &out {
        assert_valid(&schema, &m.json());
    }

    // A wrong password: authentication fails, nothing is consumed, not ready, errors
    // counted, and the log says why.
    let other = Names {
        group: common::unique("group"),
        ..names.clone()
    };
    let mut refused = start(&other, "not-the-password");
    let log = assert_refused(&refused, "SASL authentication error");
    for text in [&log, &svc.log_text()] {
        for secret in [SERVICE_PASSWORD, FEEDER_PASSWORD, "not-the-password"] {
            assert!(!text.contains(secret), "a password in the log");
        }
    }
    refused.signal("TERM");
    assert_eq!(refused.wait_exit(30), Some(0));
    svc.signal("TERM");
    assert_eq!(svc.wait_exit(30), Some(0));
}
