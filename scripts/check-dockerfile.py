#!/usr/bin/env python3
"""Check the Dockerfile against the rules the project's image must follow.

hadolint covers general Dockerfile practice; this covers what is specific to
newsflow: a multi-stage build from pinned images, a release build of the
binary that cargo produces at target/release/newsflow, a runtime stage that
runs as a numeric non-root user without needing a shell, the default
configuration and the metrics port, and an exec-form ENTRYPOINT running
`newsflow run`. It also checks that .dockerignore keeps target/ out of the
build context, and that every file the crate embeds with include_str! or
include_bytes! is copied into the build stage and not ignored.

Usage: check-dockerfile.py [--rust-version X.Y.Z] [DOCKERFILE [DOCKERIGNORE]]
Exits 1 and lists every broken rule if any fails. Standard library only.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BINARY_BUILD_PATH = "target/release/newsflow"
METRICS_PORT = "9898"
DEFAULT_CONFIG = "config/default.toml"


@dataclass
class Instruction:
    line: int
    keyword: str
    args: str


@dataclass
class Stage:
    line: int
    image: str
    alias: str | None
    instructions: list[Instruction] = field(default_factory=list)


def logical_lines(text: str) -> list[tuple[int, str]]:
    """Join backslash continuations and drop comments and blank lines."""
    out: list[tuple[int, str]] = []
    buf: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if stripped.startswith("#"):
            # A comment inside a continued instruction does not end it.
            continue
        if not buf:
            if not stripped:
                continue
            start = number
        if stripped.endswith("\\"):
            buf.append(stripped[:-1].strip())
            continue
        buf.append(stripped)
        out.append((start, " ".join(part for part in buf if part)))
        buf = []
    if buf:
        out.append((start, " ".join(part for part in buf if part)))
    return out


def parse(text: str) -> tuple[dict[str, str], list[Stage]]:
    """Return the global ARG defaults and the build stages."""
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    for number, line in logical_lines(text):
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        args = args.strip()
        if keyword == "FROM":
            words = [w for w in args.split() if not w.startswith("--")]
            image = words[0] if words else ""
            alias = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
            stages.append(Stage(number, image, alias))
        elif not stages:
            if keyword == "ARG":
                name, _, default = args.partition("=")
                global_args[name.strip()] = default.strip().strip('"')
        else:
            stages[-1].instructions.append(Instruction(number, keyword, args))
    return global_args, stages


def substitute(value: str, args: dict[str, str]) -> str:
    def repl(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return args.get(name, match.group(0))

    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)", repl, value)


def image_problem(image: str) -> str | None:
    """Why an external image reference is not pinned, or None."""
    if "$" in image:
        return f"image {image!r} uses a build argument with no default"
    if image == "scratch":
        return None
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    tag = last.partition(":")[2]
    if digest:
        return None if tag != "latest" else f"image {image!r} uses the 'latest' tag"
    if not tag:
        return f"image {image!r} has no tag or digest (it means 'latest')"
    if tag == "latest":
        return f"image {image!r} uses the 'latest' tag"
    return None


def exec_form(args: str) -> list[str] | None:
    try:
        value = json.loads(args)
    except json.JSONDecodeError:
        return None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return None


def copy_parts(args: str) -> tuple[dict[str, str], list[str]]:
    """Split COPY arguments into --flags and paths (sources..., destination)."""
    flags: dict[str, str] = {}
    words = args.split()
    paths: list[str] = []
    for word in words:
        if word.startswith("--") and not paths:
            key, _, value = word[2:].partition("=")
            flags[key] = value
        else:
            paths.append(word)
    as_json = exec_form(" ".join(paths))
    if as_json is not None:
        paths = as_json
    return flags, paths


def dockerignore_excludes_target(text: str) -> bool:
    patterns = [
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    excluded = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        core = pattern.lstrip("!").strip("/")
        if core in ("target", "**/target", "target/**", "**/target/**"):
            excluded = not negated
    return excluded


def ignore_patterns(text: str) -> list[tuple[bool, str]]:
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        out.append((negated, line.lstrip("!").strip().strip("/")))
    return out


def ignored(path: str, patterns: list[tuple[bool, str]]) -> bool:
    """Whether .dockerignore keeps `path` (relative to the context) out.

    Close to Docker's rules: a pattern matches a path or one of its parent
    directories; `**/` matches at any depth; the last matching pattern wins.
    (fnmatch's `*` also crosses `/`, which can only over-report.)
    """
    parts = path.split("/")
    result = False
    for negated, pattern in patterns:
        if pattern.startswith("**/"):
            tail = pattern[3:]
            hit = any(
                fnmatch.fnmatchcase("/".join(parts[i:j]), tail)
                for i in range(len(parts))
                for j in range(i + 1, len(parts) + 1)
            )
        else:
            hit = any(fnmatch.fnmatchcase("/".join(parts[: i + 1]), pattern) for i in range(len(parts)))
        if hit:
            result = not negated
    return result


def embedded_files(context: Path) -> list[tuple[str, str]]:
    """(embedding source file, embedded path) for include_str!/include_bytes! in src/."""
    found = []
    for source in sorted((context / "src").rglob("*.rs")):
        text = source.read_text(encoding="utf-8", errors="replace")
        for match in re.finditer(r'include_(?:str|bytes)!\(\s*"([^"]+)"\s*\)', text):
            target = (source.parent / match.group(1)).resolve()
            try:
                found.append((str(source.relative_to(context)), str(target.relative_to(context.resolve()))))
            except ValueError:
                found.append((str(source.relative_to(context)), match.group(1)))
    return found


def check(dockerfile: Path, dockerignore: Path, rust_version: str | None) -> list[str]:
    problems: list[str] = []
    text = dockerfile.read_text(encoding="utf-8")
    global_args, stages = parse(text)

    if len(stages) < 2:
        problems.append(f"expected a multi-stage build (at least 2 FROM), found {len(stages)}")
    if not stages:
        return problems

    if rust_version is not None:
        pinned = global_args.get("RUST_VERSION")
        if pinned is None:
            problems.append("no global `ARG RUST_VERSION=...` pinning the Rust toolchain")
        elif pinned != rust_version:
            problems.append(
                f"ARG RUST_VERSION={pinned} but the project builds with rustc {rust_version}"
            )

    aliases: set[str] = set()
    for index, stage in enumerate(stages):
        image = substitute(stage.image, global_args)
        if image in aliases or image == str(index - 1):
            pass
        else:
            problem = image_problem(image)
            if problem:
                problems.append(f"line {stage.line}: {problem}")
        if stage.alias:
            aliases.add(stage.alias)

    build_stages = stages[:-1]
    final = stages[-1]

    # A release build of the binary somewhere before the final stage.
    builds = [
        ins
        for stage in build_stages
        for ins in stage.instructions
        if ins.keyword == "RUN" and "cargo build" in ins.args
    ]
    if not builds:
        problems.append("no `RUN cargo build` in a build stage")
    else:
        last = builds[-1]
        if "--release" not in last.args:
            problems.append(f"line {last.line}: the final `cargo build` lacks --release")
        if "--locked" not in last.args:
            problems.append(f"line {last.line}: the final `cargo build` lacks --locked")

    # Everything below is about the runtime stage.
    for ins in final.instructions:
        if ins.keyword == "RUN":
            problems.append(
                f"line {ins.line}: RUN in the runtime stage (it must not need a shell)"
            )

    users = [ins for ins in final.instructions if ins.keyword == "USER"]
    if not users:
        problems.append("the runtime stage sets no USER (it would run as root)")
    else:
        user = users[-1]
        uid, _, gid = user.args.partition(":")
        if not uid.isdigit():
            problems.append(
                f"line {user.line}: USER {user.args!r} is not numeric "
                "(Kubernetes cannot verify runAsNonRoot for a name)"
            )
        elif int(uid) == 0:
            problems.append(f"line {user.line}: USER is root")
        if gid and not gid.isdigit():
            problems.append(f"line {user.line}: USER group {gid!r} is not numeric")

    binary_dest: str | None = None
    config_copied = False
    for ins in final.instructions:
        if ins.keyword not in ("COPY", "ADD"):
            continue
        flags, paths = copy_parts(ins.args)
        if len(paths) < 2:
            continue
        sources, dest = paths[:-1], paths[-1]
        if "from" in flags and any(s.endswith(BINARY_BUILD_PATH) for s in sources):
            if flags["from"] not in aliases and not flags["from"].isdigit():
                problems.append(f"line {ins.line}: COPY --from={flags['from']} names no stage")
            binary_dest = dest.rstrip("/")
            if dest.endswith("/"):
                binary_dest = f"{binary_dest}/newsflow"
        if "from" not in flags and DEFAULT_CONFIG in sources:
            config_copied = True
    if binary_dest is None:
        problems.append(
            f"the runtime stage does not COPY --from a build stage the binary at {BINARY_BUILD_PATH}"
        )
    if not config_copied:
        problems.append(f"the runtime stage does not COPY {DEFAULT_CONFIG}")

    exposed = {
        port.split("/")[0]
        for ins in final.instructions
        if ins.keyword == "EXPOSE"
        for port in ins.args.split()
    }
    if METRICS_PORT not in exposed:
        problems.append(f"the runtime stage does not EXPOSE {METRICS_PORT}")

    entrypoints = [ins for ins in final.instructions if ins.keyword == "ENTRYPOINT"]
    if not entrypoints:
        problems.append("the runtime stage has no ENTRYPOINT")
    else:
        entry = entrypoints[-1]
        argv = exec_form(entry.args)
        if argv is None:
            problems.append(
                f"line {entry.line}: ENTRYPOINT is not in exec (JSON array) form "
                "(shell form needs /bin/sh and swallows SIGTERM)"
            )
        elif not argv or Path(argv[0]).name != "newsflow":
            problems.append(f"line {entry.line}: ENTRYPOINT does not run newsflow: {argv}")
        else:
            if argv[1:2] != ["run"]:
                problems.append(f"line {entry.line}: ENTRYPOINT does not run `newsflow run`: {argv}")
            if binary_dest is not None and argv[0] != binary_dest:
                problems.append(
                    f"line {entry.line}: ENTRYPOINT runs {argv[0]} but the binary is copied to {binary_dest}"
                )
    for ins in final.instructions:
        if ins.keyword == "CMD" and exec_form(ins.args) is None:
            problems.append(f"line {ins.line}: CMD is not in exec (JSON array) form")

    if not dockerignore.is_file():
        problems.append(f"{dockerignore.name} is missing")
        return problems
    ignore_text = dockerignore.read_text(encoding="utf-8")
    if not dockerignore_excludes_target(ignore_text):
        problems.append(f"{dockerignore.name} does not exclude target/")

    # Files the crate embeds must reach the build stage.
    patterns = ignore_patterns(ignore_text)
    copied = []
    for stage in build_stages:
        for ins in stage.instructions:
            if ins.keyword in ("COPY", "ADD"):
                flags, paths = copy_parts(ins.args)
                if "from" not in flags:
                    copied.extend(p.removeprefix("./").rstrip("/") or "." for p in paths[:-1])
    for source, path in embedded_files(dockerfile.parent):
        if ignored(path, patterns):
            problems.append(f"{source} embeds {path}, which {dockerignore.name} excludes from the build context")
        elif not any(c == "." or path == c or path.startswith(c + "/") for c in copied):
            problems.append(f"{source} embeds {path}, which no COPY in a build stage brings in")

    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dockerfile", nargs="?", type=Path, default=ROOT / "Dockerfile")
    parser.add_argument("dockerignore", nargs="?", type=Path, default=None)
    parser.add_argument(
        "--rust-version",
        help="the rustc version the project builds with; ARG RUST_VERSION must equal it",
    )
    options = parser.parse_args()
    dockerignore = options.dockerignore or options.dockerfile.parent / ".dockerignore"
    if not options.dockerfile.is_file():
        print(f"check-dockerfile: {options.dockerfile} not found", file=sys.stderr)
        return 1
    problems = check(options.dockerfile, dockerignore, options.rust_version)
    if problems:
        print(f"check-dockerfile: {options.dockerfile}: {len(problems)} problem(s):", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    print(f"check-dockerfile: {options.dockerfile}: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
