#!/usr/bin/env python3
"""A Kafka client the project did not write (confluent-kafka), for the real-broker tests.

produce: publish files (one message each) or lines (--lines) to a topic.
consume: read a topic from the beginning and print one JSON object per message:
         {"partition", "offset", "key", "value" (base64), "headers": {name: base64}}.
"""
import argparse
import base64
import json
import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition


def extra(args):
    """librdkafka properties given as --config KEY=VALUE (e.g. TLS settings)."""
    return dict(kv.split("=", 1) for kv in args.config)


def produce(args):
    # Unkeyed messages go to a random partition each (not sticky batches), so a topic's
    # partitions fill evenly.
    p = Producer({"bootstrap.servers": args.brokers, "linger.ms": 5,
                  "sticky.partitioning.linger.ms": 0, **extra(args)})
    failed = []

    def report(err, _msg):
        if err is not None:
            failed.append(str(err))

    count = 0
    for path in args.files:
        data = open(path, "rb").read()
        messages = [l for l in data.split(b"\n") if l.strip()] if args.lines else [data]
        for m in messages:
            while True:
                try:
                    p.produce(args.topic, m, on_delivery=report)
                    break
                except BufferError:
                    p.poll(0.1)
            count += 1
            p.poll(0)
    left = p.flush(60)
    if failed or left:
        sys.exit(f"produce failed: {len(failed)} errors ({failed[:3]}), {left} undelivered")
    print(count)


def consume(args):
    c = Consumer({
        "bootstrap.servers": args.brokers,
        "group.id": f"reader-{time.time_ns()}",
        "enable.auto.commit": False,
        "fetch.wait.max.ms": 50,
        **extra(args),
    })
    md = c.list_topics(args.topic, timeout=10)
    parts = md.topics[args.topic].partitions
    c.assign([TopicPartition(args.topic, p, 0) for p in parts])  # 0 = from the beginning
    seen, deadline, last = 0, time.time() + args.timeout, time.time()
    while time.time() < deadline:
        if seen >= args.expect and time.time() - last > args.quiet:
            break
        m = c.poll(0.2)
        if m is None:
            continue
        if m.error():
            continue
        b64 = lambda b: base64.b64encode(b).decode() if b is not None else None
        print(json.dumps({
            "partition": m.partition(), "offset": m.offset(), "key": b64(m.key()),
            "value": b64(m.value()), "headers": {k: b64(v) for k, v in (m.headers() or [])},
        }), flush=True)
        seen += 1
        last = time.time()
    c.close()


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("produce")
    p.add_argument("--brokers", required=True)
    p.add_argument("--topic", required=True)
    p.add_argument("--lines", action="store_true")
    p.add_argument("--config", action="append", default=[])
    p.add_argument("files", nargs="+")
    c = sub.add_parser("consume")
    c.add_argument("--brokers", required=True)
    c.add_argument("--topic", required=True)
    c.add_argument("--expect", type=int, default=0)
    c.add_argument("--timeout", type=float, default=30)
    c.add_argument("--quiet", type=float, default=1.5)
    c.add_argument("--config", action="append", default=[])
    args = ap.parse_args()
    {"produce": produce, "consume": consume}[args.cmd](args)


if __name__ == "__main__":
    main()
