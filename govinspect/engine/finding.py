"""The one finding contract every checker returns: site checks, new media, registers, reply letters, letters.

    Finding(rule, detail, subject=Subject(...), location=Location(...), facts={...}, evidence=Evidence(...))

- rule: an id of rules/catalog.toml (which also gives its severity, veto, subject kind and the facts it declares).
- subject: what the problem is about, as typed fields (kind: site | column | page | link | account | register_row |
  reply | letter | ticket).
- location: where it was seen, as typed fields: a URL, or a file with sheet/row/cell, or a file with page/paragraph.
  Never a pseudo-URL.
- facts: the rule's own typed facts (the catalogue declares their names); reports read facts, never `detail`.
- evidence: when and how it was captured (time, HTTP status, WARC file and record offset) and an excerpt with the
  hit located in it; personal data appears only masked.
- fingerprint: the same problem across rounds. rule + subject + normalised location + normalised matched text;
  the excerpt, offsets, capture time and detail wording are left out, so a cosmetic change of the page (layout,
  whitespace, full-width forms, a session id or fragment in the URL) keeps it, and a different matched text
  changes it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from dataclasses import asdict, dataclass, field, fields
from urllib.parse import urlsplit, urlunsplit

SUBJECT_KINDS = ("site", "column", "page", "link", "account", "register_row", "reply", "letter", "ticket")


@dataclass(frozen=True)
class Subject:
    kind: str
    site: str = ""  # the website's home URL (site, column, page and link subjects)
    column: str = ""  # the column's name (column subjects; the column a page finding was seen in)
    account: str = ""  # "platform/name" of a new-media account
    unit: str = ""  # the unit named by a register row, reply letter, letter or ticket
    ref: str = ""  # a register row's document number, a letter's or ticket's number, a reply letter's file name

    def __post_init__(self):
        if self.kind not in SUBJECT_KINDS:
            raise ValueError(f"unknown subject kind {self.kind!r}")

    def key(self) -> str:
        """The subject's identity for fingerprints: the typed fields that name it (not the column of a page)."""
        parts = {"site": (_norm_url(self.site),), "column": (_norm_url(self.site), _norm_text(self.column)),
                 "account": (_norm_text(self.account),)}.get(self.kind)
        if parts is None:
            parts = (_norm_url(self.site), _norm_text(self.unit), _norm_text(self.ref))
        return self.kind + ":" + "|".join(parts)

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v or k == "kind"}


@dataclass(frozen=True)
class Location:
    url: str = ""
    file: str = ""  # a submitted file's name (registers, reply letters, letter exports)
    sheet: str = ""
    row: int | None = None
    cell: str = ""
    page: int | None = None  # a document's page
    paragraph: int | None = None

    def key(self) -> str:
        if self.url:
            return _norm_url(self.url)
        return "|".join(str(v) for v in (self.file, self.sheet, self.row, self.cell, self.page, self.paragraph))

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v not in ("", None)}

    def describe(self) -> str:
        """Where, in Chinese, for tables and the command line."""
        if self.url:
            return self.url
        out = self.file
        if self.sheet:
            out += f"（{self.sheet}）"
        if self.row is not None:
            out += f"第{self.row}行"
        if self.cell:
            out += f" {self.cell}"
        if self.page is not None:
            out += f"第{self.page}页"
        if self.paragraph is not None:
            out += f"第{self.paragraph}段"
        return out


@dataclass
class Evidence:
    captured_at: str | None = None  # ISO time the page or file was read
    http_status: int | None = None
    warc_file: str = ""  # the WARC file holding the capture (a storage key under the data directory when stored)
    warc_offset: int | None = None  # the record's offset in it
    excerpt: str = ""  # the text around the hit (personal data masked)
    hit: tuple[int, int] | None = None  # the hit's [start, end) in the excerpt
    coverage: str = ""  # a note when the site was only partly covered (the rule may miss more beyond)

    def to_dict(self) -> dict:
        d = {k: v for k, v in asdict(self).items() if v not in ("", None)}
        if self.hit is not None:
            d["hit"] = list(self.hit)
        return d

    @classmethod
    def from_dict(cls, d: dict | None) -> "Evidence":
        d = dict(d or {})
        names = {f.name for f in fields(cls)}
        if d.get("hit") is not None:
            d["hit"] = tuple(d["hit"])
        return cls(**{k: v for k, v in d.items() if k in names})


@dataclass
class Finding:
    rule: str
    detail: str  # one sentence in Chinese for people; never parsed
    subject: Subject
    location: Location = field(default_factory=Location)
    facts: dict = field(default_factory=dict)
    evidence: Evidence = field(default_factory=Evidence)
    match: str = ""  # the matched text that tells this problem from others on the same place (masked personal data)

    @classmethod
    def at_url(cls, rule: str, url: str, detail: str, *, kind: str = "page", site: str = "", column: str | None = None,
               facts: dict | None = None, match: str | None = None) -> "Finding":
        """A finding on the web: a page, a link target, a column's list or a whole site."""
        facts = dict(facts or {})
        if match is None:
            match = str(facts.get("text") or "")
        if kind == "site":
            site = site or url
        return cls(rule=rule, detail=detail, subject=Subject(kind=kind, site=site, column=column or ""),
                   location=Location(url=url), facts=facts, match=match)

    @property
    def url(self) -> str:
        return self.location.url

    @property
    def column(self) -> str | None:
        return self.subject.column or None

    stored_fingerprint: str = ""  # as stored with the finding (a row read back keeps the identity it was stored with)

    @property
    def fingerprint(self) -> str:
        return self.stored_fingerprint or fingerprint(self.rule, self.subject, self.location, self.match)

    def to_dict(self) -> dict:
        return {"rule": self.rule, "detail": self.detail, "fingerprint": self.fingerprint, "subject": self.subject.to_dict(),
                "location": self.location.to_dict(), "facts": self.facts, "evidence": self.evidence.to_dict(),
                **({"match": self.match} if self.match else {})}

    @classmethod
    def from_dict(cls, d: dict) -> "Finding":
        return cls(rule=d["rule"], detail=d.get("detail", ""), subject=Subject(**d["subject"]),
                   location=Location(**(d.get("location") or {})), facts=dict(d.get("facts") or {}),
                   evidence=Evidence.from_dict(d.get("evidence")), match=d.get("match", ""))


# ------------------------------------------------------------------------------------------- fingerprints
_SPACE = re.compile(r"\s+")
# session ids only: `sid` and `id` name content on many Chinese CMS sites (art.jsp?sid=101) and are kept
_SESSION = re.compile(r";jsessionid=[^/?#]*|(?:^|&)(?:jsessionid|phpsessid|aspsessionid\w*|cfid|cftoken)=[^&]*", re.I)


def _norm_text(s: str) -> str:
    """NFKC (full-width forms), no whitespace, case folded: the same words however they were laid out."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", s or "")).casefold()


def _norm_url(url: str) -> str:
    """Scheme and host lower-case, default port, fragment and session ids dropped, the home page under any file name
    (index.html, default.aspx) as the site root, a trailing slash ignored."""
    if not url:
        return ""
    p = urlsplit(url.strip())
    scheme = p.scheme.lower()
    host = (p.hostname or "").lower()
    port = p.port if p.port and (scheme, p.port) not in (("http", 80), ("https", 443)) else None
    path = _SESSION.sub("", p.path)
    path = re.sub(r"/(?:index|default|main|home)\.(?:s?html?|php|aspx?|jsp)$", "/", path, flags=re.I)
    path = path.rstrip("/") or "/"
    query = "&".join(sorted(q for q in _SESSION.sub("", p.query).split("&") if q))
    return urlunsplit((scheme, host + (f":{port}" if port else ""), path, query, ""))


# subjects named by their own reference (a document number, a letter's number, a reply letter's file): the place in
# a submitted file (row, sheet, file name) changes when the register grows or is exported again, the problem does not
_NAMED_BY_REF = ("register_row", "reply", "letter", "ticket")


def fingerprint(rule: str, subject: Subject, location: Location, match: str = "") -> str:
    place = "" if subject.kind in _NAMED_BY_REF and subject.ref else location.key()
    raw = "\x1f".join((rule, subject.key(), place, _norm_text(match)))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


def iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d else None
