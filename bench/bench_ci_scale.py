"""CI cost against history size: the same 40 audited versions in histories of 1,600 and 20,000
commits (about 12% merges, many GPG-signed commits that touch no audited file).

Goal (issue 15): ci over the 1,600-commit history <= 1.3 x (one Presidio import + the sum of warm
validations of the 40 versions); the 20,000-commit history <= 1.3 x the 1,600-commit one.
The bulk of each history is written with `git fast-import`; the signed commits are real `git
commit -S` with a throw-away GnuPG home, so `%G?` would have to run gpg on each of them.

Run: .venv/bin/python bench/bench_ci_scale.py [--signed 60] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent

from bench.bench_git import presidio_import_time, validation_times  # noqa: E402
from tests.gitfixtures import RECOGNIZERS, make_repo  # noqa: E402

AUDITED = 40


def fast_history(repo: Path, env: dict[str, str], total: int, versions: list[bytes]) -> None:
    """`total` commits on the current branch: every 8th is a merge of a one-commit side branch,
    `len(versions)` of them spread evenly change recognizers/custom.yaml, the rest docs."""
    every = max(total // len(versions), 1)
    lines: list[bytes] = []
    mark, parent = 0, None
    tip = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, env=env, capture_output=True,
                         text=True, check=True).stdout.strip()

    def commit(branch: str, message: str, path: str, data: bytes, frm: str, merge: str | None) -> str:
        nonlocal mark
        mark += 1
        out = [f"commit refs/heads/{branch}", f"mark :{mark}",
               "author Alice <alice@nw.example> 1714564800 +0000",
               "committer Alice <alice@nw.example> 1714564800 +0000",
               f"data {len(message)}", message, f"from {frm}"]
        if merge:
            out.append(f"merge {merge}")
        out += [f"M 100644 inline {path}", f"data {len(data)}"]
        lines.append("\n".join(out).encode() + b"\n" + data + b"\n")
        return f":{mark}"

    parent = tip
    v = 0
    for i in range(total):
        if i % every == every - 1 and v < len(versions):
            parent = commit("main", f"recognizer v{v}", "recognizers/custom.yaml", versions[v],
                            parent, None)
            v += 1
        elif i % 8 == 7:
            side = commit("side", f"side {i}", f"docs/side{i % 50}.md", f"s{i}\n".encode(),
                          parent, None)
            parent = commit("main", f"merge {i}", f"docs/m{i % 50}.md", f"m{i}\n".encode(),
                            parent, side)
        else:
            parent = commit("main", f"docs {i}", f"docs/n{i % 50}.md", f"n{i}\n".encode(),
                            parent, None)
    subprocess.run(["git", "fast-import", "--quiet", "--force"], cwd=repo, env=env,
                   input=b"".join(lines) + b"done\n", check=True)
    subprocess.run(["git", "reset", "-q", "--hard", "main"], cwd=repo, env=env, check=True)


def signed_commits(repo_env: dict[str, str], repo: Path, count: int) -> None:
    for i in range(count):
        (repo / "docs").mkdir(exist_ok=True)
        (repo / "docs" / f"signed{i}.md").write_text(f"signed {i}\n")
        subprocess.run(["git", "add", "-A"], cwd=repo, env=repo_env, check=True)
        subprocess.run(["git", "commit", "-q", "-S", "-m", f"signed {i}"], cwd=repo,
                       env=repo_env, check=True)


def build(tmp: Path, total: int, signed: int, versions: list[bytes]) -> tuple[Path, dict[str, str], str]:
    where = Path(tempfile.mkdtemp(dir=tmp))
    repo = make_repo(where, hooks=False)
    gnupg = where / "gnupg"
    gnupg.mkdir(mode=0o700)
    env = {**repo.env, "GNUPGHOME": str(gnupg)}
    subprocess.run(["gpg", "--batch", "--passphrase", "", "--quick-gen-key",
                    "Alice <alice@nw.example>", "ed25519", "sign", "never"],
                   env=env, check=True, capture_output=True)
    repo.git("config", "user.signingkey", "alice@nw.example")
    assert repo.commit("base").returncode == 0
    base = repo.head()
    signed_commits(env, repo.path, signed)
    fast_history(repo.path, env, total - signed, versions)
    return repo.path, env, base


def time_ci(repo: Path, env: dict[str, str], base: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        log = repo.parent / f"ci-{time.monotonic_ns()}.jsonl"
        start = time.perf_counter()
        out = subprocess.run(
            [str(BIN / "config-audit"), "ci", "--base", base, "--log", str(log), "--format", "json"],
            cwd=repo, env=env, capture_output=True, text=True, check=False,
        )
        times.append(time.perf_counter() - start)
        assert out.returncode in (0, 1), out.stderr[-2000:]
        assert len(log.read_text().splitlines()) == AUDITED, out.stderr[-2000:]
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--signed", type=int, default=60, help="GPG-signed commits per history")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    versions = [RECOGNIZERS.replace("context: [", f"context: [w{i}, ", 1).encode()
                for i in range(AUDITED)]
    with tempfile.TemporaryDirectory() as tmp:
        small = build(Path(tmp), 1_600, args.signed, versions)
        large = build(Path(tmp), 20_000, args.signed, versions)
        t_small = time_ci(*small, runs=args.runs)
        t_large = time_ci(*large, runs=args.runs)
        for home in (small[1]["GNUPGHOME"], large[1]["GNUPGHOME"]):
            subprocess.run(["gpgconf", "--kill", "all"], env={**os.environ, "GNUPGHOME": home},
                           check=False)
    t_import = presidio_import_time()
    warm = sum(validation_times(versions, memo=True))
    base = t_import + warm
    print(f"ci over 1,600 commits ({AUDITED} audited, {args.signed} GPG-signed): {t_small:.2f} s")
    print(f"ci over 20,000 commits (same {AUDITED} audited)             : {t_large:.2f} s")
    print(f"one Presidio import + warm validations of the {AUDITED}     : {base:.2f} s "
          f"({t_import:.2f} + {warm:.2f})")
    print(f"ratio ci(1,600) / baseline   : {t_small / base:.2f}  (goal <= 1.3)")
    print(f"ratio ci(20,000) / ci(1,600) : {t_large / t_small:.2f}  (goal <= 1.3)")


if __name__ == "__main__":
    main()
