//! `newsflow produce`: publishes raw article files to a topic, for feeding and replaying.
//! A file is one message; a directory is every file in it (sorted, recursively);
//! `.ndjson`/`.jsonl` files (or `--lines`) are one message per non-empty line.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use rdkafka::config::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;

/// Reads every message the paths hold, in a stable order.
pub fn collect_messages(paths: &[PathBuf], lines: bool) -> anyhow::Result<Vec<Vec<u8>>> {
    let mut files = Vec::new();
    for p in paths {
        walk(p, &mut files)?;
    }
    let mut out = Vec::new();
    for f in files {
        let bytes = std::fs::read(&f).with_context(|| format!("reading {}", f.display()))?;
        let ext = f.extension().and_then(|e| e.to_str()).unwrap_or_default();
        if lines || ext == "ndjson" || ext == "jsonl" {
            out.extend(
                bytes
                    .split(|b| *b == b'\n')
                    .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
                    .map(<[u8]>::to_vec),
            );
        } else {
            out.push(bytes);
        }
    }
    Ok(out)
}

fn walk(p: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    if p.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
            .with_context(|| format!("listing {}", p.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for e in entries {
            walk(&e, out)?;
        }
    } else if p.is_file() {
        out.push(p.to_owned());
    } else {
        anyhow::bail!("{} is neither a file nor a directory", p.display());
    }
    Ok(())
}

/// Publishes `messages` to `topic` and waits for every delivery report.
/// Extra librdkafka properties come from `props`.
pub async fn produce(
    brokers: &str,
    topic: &str,
    messages: &[Vec<u8>],
    props: &[(String, String)],
) -> anyhow::Result<usize> {
    let mut cfg = ClientConfig::new();
    cfg.set("bootstrap.servers", brokers)
        .set("enable.idempotence", "true")
        .set("linger.ms", "5")
        // Keyless messages: a random partition each, not one sticky partition per batch,
        // so a feed spreads over every partition (and every consumer) at once.
        .set("sticky.partitioning.linger.ms", "0");
    for (k, v) in props {
        cfg.set(k, v);
    }
    let producer: FutureProducer = cfg.create().context("creating producer")?;
    let sends = messages.iter().map(|m| {
        let producer = &producer;
        async move {
            producer
                .send(
                    FutureRecord::<(), [u8]>::to(topic).payload(&m[..]),
                    Timeout::After(Duration::from_secs(30)),
                )
                .await
                .map_err(|(e, _)| e)
        }
    });
    let results = futures::future::join_all(sends).await;
    let failed = results.iter().filter(|r| r.is_err()).count();
    if let Some(Err(e)) = results.iter().find(|r| r.is_err()) {
        anyhow::bail!(
            "{failed} of {} messages were not delivered; first error: {e}",
            messages.len()
        );
    }
    Ok(messages.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_files_dirs_and_lines() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("b.txt"), "two").unwrap();
        std::fs::write(d.path().join("a.txt"), "one").unwrap();
        std::fs::write(d.path().join("c.ndjson"), "{\"x\":1}\n\n{\"x\":2}\n").unwrap();
        let msgs = collect_messages(&[d.path().to_owned()], false).unwrap();
        assert_eq!(
            msgs,
            vec![
                b"one".to_vec(),
                b"two".to_vec(),
                b"{\"x\":1}".to_vec(),
                b"{\"x\":2}".to_vec()
            ]
        );
        assert!(collect_messages(&[d.path().join("missing")], false).is_err());
    }
}
