"""Every site finding keeps the contract the catalogue declares (rule, subject kind, facts) and carries its capture."""

import json

import pytest

from govinspect.engine.checks.freshness import ColumnSpec
from govinspect.engine.inspect import inspect_site
from govinspect.rules.ruleset import RuleSet

RS = RuleSet.load()


@pytest.fixture(scope="module")
def findings(county, sandbox, tmp_path_factory):
    out = []
    for key in ("portal", "jyj", "wjw", "rsj"):
        s = county.site(key)
        specs = [ColumnSpec(c.name, sandbox.url(key, c.path), c.category) for c in s.columns]
        rep = inspect_site(sandbox.urls[key], county.as_of, sandbox.crawl_config(), specs,
                           tmp_path_factory.mktemp(key), rules=RS)
        out += rep.findings
    return out


def test_findings_keep_the_declared_contract(findings):
    catalog = RS["catalog"]["rules"]
    assert len({f.rule for f in findings}) >= 20
    for f in findings:
        entry = catalog[f.rule]
        assert f.subject.kind == entry["subject"], (f.rule, f.subject.kind)
        assert set(f.facts) <= set(entry["facts"]), (f.rule, set(f.facts) - set(entry["facts"]))
        assert f.location.url and f.subject.site
        json.dumps(f.to_dict(), ensure_ascii=False)  # plain data


def test_findings_carry_their_capture_and_located_hit(findings):
    for f in findings:
        ev = f.evidence
        assert ev.captured_at and ev.http_status == 200 and ev.warc_file and ev.warc_offset is not None, f.to_dict()
        if f.rule.startswith(("content.", "privacy.")) and f.rule != "content.backdated":
            a, b = ev.hit
            assert ev.excerpt[a:b] == f.match == f.facts["text"]
    ids = [f for f in findings if f.rule == "privacy.id_number"]
    assert ids and all("*" in f.match and "*" in f.evidence.excerpt for f in ids)  # masked, never the full number


def test_fingerprints_tell_problems_apart(findings):
    prints = [f.fingerprint for f in findings]
    assert len(prints) == len(set(prints))
