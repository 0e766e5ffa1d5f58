"""The typo check's context method (issue 20): the KenLM word trigram (content/wordlm.py), LmTypoDetector's hits and
guards, the fallback to the dictionary method, hostile text, the CLI and worker processes, and real-data accuracy.

All sentences here are written for this file (公文 style); none is taken from ECSpell or ../shared/realdata. Tests of
the new method need Debian's libime-data-language-model (`make test` installs it) and skip, saying so, without it.
Behaviour that depends on GOVINSPECT_TYPO_LM runs in a subprocess, so the lru_caches of this process stay intact.
"""

from __future__ import annotations

import copy
import json
import pickle
import random
import subprocess
import sys
from pathlib import Path

import pytest

from govinspect.engine.content import ContentChecker
from govinspect.engine.content.typo import LmTypoDetector, classic_detector, detector
from govinspect.engine.content import lawlm, typo
from govinspect.engine.content.wordlm import DEBIAN_LM, WordLM

from realdata import REALDATA
from typo_probe import probe

ROOT = Path(__file__).resolve().parents[1]
needs_lm = pytest.mark.skipif(not DEBIAN_LM.is_file(),
                              reason=f"{DEBIAN_LM} is absent (install the Debian package libime-data-language-model)")


@pytest.fixture(scope="module")
def lm() -> WordLM:
    if not DEBIAN_LM.is_file():
        pytest.skip(f"{DEBIAN_LM} is absent (install the Debian package libime-data-language-model)")
    return WordLM(DEBIAN_LM)


@pytest.fixture(scope="module")
def det(lm) -> LmTypoDetector:
    """The context detector: this process's own when it is one (the usual case), else one over the Debian model."""
    d = detector()
    return d if isinstance(d, LmTypoDetector) else LmTypoDetector(lm, lawlm.load())


def hits_of(d, text):
    return [(h.text, h.suggestion) for h in d.scan(text)]


# ----------------------------------------------------------------------------- own text
# clean 公文-style sentences written for this file: no typos
CLEAN = [
    "县政府召开常务会议，研究部署下一阶段重点工作，会议由县长主持。",
    "要加大对困难群众的帮扶力度，切实保障他们的基本生活，做到应保尽保。",
    "各单位要高度重视信访工作，认真解决群众反映的突出问题，维护社会和谐稳定。",
    "我们要不断增强服务意识，提高办事效率，为企业发展创造良好环境。",
    "要持续深化放管服改革，进一步简化审批流程，压缩办理时限。",
    "各地要因地制宜发展特色产业，带动农民增收致富，巩固拓展脱贫攻坚成果。",
    "会议听取了各部门关于上半年工作情况的汇报，并对下半年工作进行了部署。",
    "要加强干部队伍建设，不断提高干部的政治素质和业务能力。",
    "全面落实河长制，加强水环境治理，持续改善生态环境质量。",
    "要做好重要节日期间的安全防范工作，确保人民群众生命财产安全。",
    "坚持以人民为中心的发展思想，着力解决群众急难愁盼问题。",
    "各部门要加强沟通协调，形成工作合力，共同推动各项任务落地见效。",
    "教育部门要深入推进义务教育均衡发展，努力办好人民满意的教育。",
    "各级领导干部要带头遵守廉洁自律规定，自觉接受群众监督。",
    "要切实加强对安全生产工作的领导，认真落实主体责任，坚决遏制重特大事故发生。",
    "全县上下要坚定信心，确保完成全年目标任务，为经济发展作出新贡献。",
    "各乡镇要加强农村饮水安全工程的日常维护，确保群众喝上放心水。",
    "市场监管部门要加强食品安全监督检查，严厉打击违法违规行为。",
    "要进一步健全完善工作机制，提高工作效率，确保各项工作有序推进。",
    "要严格落实安全生产责任制，加强隐患排查治理，防范化解重大风险。",
    "各单位要精心组织，确保培训工作取得实效，提升干部队伍整体素质。",
    "会议要求，各地要认真总结经验，查找不足，制定切实可行的整改措施。",
    "要把握正确政治方向，坚持党对一切工作的全面领导，不断增强政治判断力。",
    "今年以来，全市新建改建农村公路一百二十公里，群众出行条件明显改善。",
    "卫生健康部门要做好常见病、多发病的防治工作，提升基层医疗服务能力。",
    "要加强耕地保护，严守耕地红线，确保粮食播种面积稳定。",
    "财政部门要优化支出结构，兜牢基层三保底线，提高资金使用效益。",
    "要加强城市管理，整治占道经营、乱停乱放等突出问题，提升城市形象。",
    "各地要扎实做好秋冬季森林防火工作，落实巡山护林责任，严防火灾发生。",
    "要认真办理人大代表建议和政协委员提案，及时向代表委员反馈办理结果。",
    "住房城乡建设部门要加快老旧小区改造，完善配套设施，改善居民居住条件。",
    "人社部门要落实稳就业政策，做好高校毕业生、退役军人等重点群体就业工作。",
]

# (sentence, written window, suggestion): slips the context method finds and the dictionary method misses
NEW_FINDS = [
    ("各级党组织要切实加强对安全生产工作的领导，认真落实主体责人。", "责人", "责任"),
    ("要进一步加强党风廉政建设，坚决惩治腐败，营造风清气正的政治生太。", "生太", "生态"),
    ("要全面贯彻落实党的二十大精神，推动经济社会高质量发展取得新成效，奋力谱写新篇张。", "篇张", "篇章"),
    ("全市经济运行总体平稳，主要经济指标保持合理区间，发展质量稳步提生。", "稳步提生", "稳步提升"),
    ("要加快推进重点项目建设，确保项目早日建成投产，发挥效益，带动就业增收，促进经济发展，实现共同富欲。", "富欲", "富裕"),
    ("县委常委会议作出决定，对该同志给予党内严重警高处分。", "严重警高", "严重警告"),
    ("要认真落实中央八项规定精神，严禁公款吃喝，坚决进止违规发放津贴补贴。", "进止", "禁止"),
    ("各地要加快推进农村人居环境整治，改善农民生活条见。", "条见", "条件"),
    ("全县各级党组织要认真学习贯彻会议经神，结合实际抓好落实。", "经神", "精神"),
    ("要大力弘扬新时代企业家经神，激发市场主体活力。", "经神", "精神"),
]


# ----------------------------------------------------------------------------- 1. WordLM
def test_gains_equal_score_differences_on_random_windows(lm, det):
    """gains() shares the DP of the unchanged sides; it must give exactly score(left+alt+right) - score(left+written+right)
    for every alternative, at sentence starts and ends (bos/eos) and inside, with empty sides too."""
    text = "".join(CLEAN) + "".join(s for s, _, _ in NEW_FINDS)
    rng = random.Random(20)
    checked = 0
    for _ in range(1500):
        i = rng.randrange(len(text))
        lo, hi = max(0, i - rng.randint(0, 8)), min(len(text), i + 1 + rng.randint(0, 8))
        left, written, right = text[lo:i], text[i], text[i + 1:hi]
        alts = list(det.confusion.get(written, ""))[:6] + [rng.choice(text) for _ in range(3)] + [written]
        bos, eos = rng.random() < 0.5, rng.random() < 0.5
        got = lm.gains(left, written, alts, right, bos, eos)
        assert len(got) == len(alts)
        base = lm.score(left + written + right, bos, eos)
        for alt, g in zip(alts, got):
            assert g == pytest.approx(lm.score(left + alt + right, bos, eos) - base, abs=1e-6), (left, written, alt, right, bos, eos)
            checked += 1
        assert got[-1] == pytest.approx(0.0, abs=1e-9)  # the written character itself gains nothing
    assert checked > 10_000


def test_word_pair_pruning_changes_nothing(lm, tmp_path):
    """WordLM skips strings holding two neighbours no word of the model holds, read from the vocabulary the KenLM
    file ends with. The same model without that list (every string looked up) must cut and score identically."""
    from govinspect.engine.content.wordlm import _ANY, _word_pairs

    assert _word_pairs(DEBIAN_LM, lm.model) is not None  # the Debian file lists its words: pruning is on
    plain = WordLM(DEBIAN_LM)
    plain._next = lambda a, default: _ANY
    text = "".join(CLEAN) + "".join(s for s, _, _ in NEW_FINDS) + "县人大常委会听取报告目标任物精神文明"
    rng = random.Random(7)
    for _ in range(600):
        i = rng.randrange(len(text) - 1)
        k = rng.choice((1, 2))
        lo, hi = max(0, i - rng.randint(0, 6)), min(len(text), i + k + rng.randint(0, 6))
        left, written, right = text[lo:i], text[i:i + k], text[i + k:hi]
        alts = ["".join(rng.choice(text) for _ in range(k)) for _ in range(4)]
        assert lm.segment(text[lo:hi]) == plain.segment(text[lo:hi])
        assert lm.gains(left, written, alts, right, False, False) == pytest.approx(
            plain.gains(left, written, alts, right, False, False), abs=1e-9)
    arpa = tmp_path / "model.arpa"
    arpa.write_text("\\data\\\nngram 1=2\n\n\\1-grams:\n-1.0\t<unk>\n-1.0\t市场\n\n\\end\\\n", encoding="utf-8")
    assert _word_pairs(arpa, lm.model) is None  # not a binary file with its words: nothing is pruned


def test_word_reading_equals_lazy_pinyin(det):
    """The homophone route reads words straight from pypinyin's tables; it must give what lazy_pinyin gives (the
    homophone groups are keyed by lazy_pinyin), heteronyms included (长大, 重新, 绿化: lv)."""
    from pypinyin import lazy_pinyin

    from govinspect.engine.content.typo import _CJK_RUN, _word_reading

    words = sorted(w for w, f in det.freq.items() if len(w) == 2 and f > 0 and _CJK_RUN.fullmatch(w)
                   and (w[0] in det.heteronyms or w[1] in det.heteronyms))
    assert len(words) > 10_000
    sample = random.Random(3).sample(words, 4000) + ["长大", "重新", "绿化", "银行", "行长", "率先", "效率"]
    assert [_word_reading(w) for w in sample] == [" ".join(lazy_pinyin(w)) for w in sample]


def test_segment_uses_the_models_own_words(lm):
    assert lm.segment("市场监管局") == ["市场", "监管局"]
    assert lm.segment("国际机场") == ["国际", "机场"]
    for s in ("市场监管局", "国际机场", "县人民政府办公室"):
        words = lm.segment(s)
        assert "".join(words) == s and all(w in lm for w in words)
        assert any(len(w) > 1 for w in words)  # words, not characters
    assert lm.segment("") == []


def test_uni_of_a_word_the_model_lacks_is_none(lm):
    assert lm.uni("市场") is not None and lm.uni("市场") < 0
    # jieba's longer words the model lacks (wordlm.py's docstring), and nonsense
    assert lm.uni("市场监管") is None and lm.uni("国际机场") is None
    assert lm.uni("镕鍪鍪") is None and "镕鍪鍪" not in lm


# ----------------------------------------------------------------------------- 2. detection
@pytest.mark.parametrize("sentence,written,fixed", NEW_FINDS, ids=[w for _, w, _ in NEW_FINDS])
def test_context_method_finds_slips_the_dictionary_method_misses(det, sentence, written, fixed):
    hits = det.scan(sentence)
    assert [(h.text, h.suggestion) for h in hits] == [(written, fixed)]
    h = hits[0]
    assert sentence[h.start:h.end] == written and h.rule == "content.typo" and h.category == "疑似错别字"
    assert written in h.note and fixed in h.note
    # character level: exactly the changed character(s) differ between text and suggestion
    assert sum(a != b for a, b in zip(h.text, h.suggestion)) == 1
    assert hits_of(classic_detector(), sentence) == []


def test_clean_government_sentences_give_no_hit(det):
    for s in CLEAN:
        assert hits_of(det, s) == [], s
    assert det.scan("".join(CLEAN)) == []  # as one page too
    page = "\n".join(CLEAN[:10]) + "\n" + NEW_FINDS[0][0]  # and a slip among them is still found, at its offset
    hits = det.scan(page)
    assert [(h.text, h.suggestion) for h in hits] == [("责人", "责任")] and page[hits[0].start:hits[0].end] == "责人"


@needs_lm
def test_whole_word_homophones_in_clear_context():
    """The examples of candidates()' own comment: the written words are words, only the context tells."""
    d = detector()
    assert hits_of(d, "经过集体研究，县委作出绝顶，对相关责任人进行严肃处理。") == [("绝顶", "决定")]
    assert hits_of(d, "要对项目实施效果进行平谷，及时发现问题并加以整改。") == [("平谷", "评估")]


@needs_lm
def test_peoples_congress_is_not_a_typo():
    d = detector()
    assert hits_of(d, "县人大常委会听取了关于城市建设工作的报告，提出了修改意见。") == []
    assert hits_of(d, "市人大常委会第十次会议审议通过了关于加强生态环境保护的决定。") == []
    assert hits_of(d, "本次会议由县人大常委会主任主持，各位副主任出席会议。") == []


@needs_lm
def test_suggestion_fits_the_phrase():
    assert hits_of(detector(), "全县上下要坚定信心，攻坚克难，确保完成全年目标任物。") == [("目标任物", "目标任务")]


# ----------------------------------------------------------------------------- 3. guards
# (guarded sentence, the same slip unguarded, the window found there): the unguarded one shows the guard is what keeps
# the guarded one silent
GUARDS = {
    "title-name": ("办公室主任张效律受到县委表彰。", "要不断提高工作效律，方便企业和群众办事。", "效律"),
    "name-title": ("局长刘措失在会上作了讲话，要求各部门抓好落实。", "会议由刘措失主持，各部门负责同志参加。", "措失"),
    "quotes": ("全县开展“提高效律年”主题活动，各单位积极参与。", "全县开展提高效律年主题活动，各单位积极参与。", "效律"),
    "book-title": ("各单位要组织学习《提高效律读本》，认真撰写心得体会。", "各单位要组织学习提高效律读本，认真撰写心得体会。", "效律"),
    "document-number": ("根据县政府办印发的府办效律〔2026〕5号文件精神，抓好落实。", "根据县政府办印发的文件精神，各单位要提高工作效律，抓好落实。",
                        "效律"),
    "repeated-term": ("不断提高政务服务效律，方便企业和群众办事，效律提升成效明显。", "不断提高政务服务效律，方便企业和群众办事。", "效律"),
    "company": ("新星效律科技有限公司获评省级专精特新企业。", "新星科技园不断提高工作效律，带动就业明显。", "效律"),
    "hospital": ("城东效律医院获批二级医院，群众看病更加方便。", "城东街道不断提高办事效律，群众办事更加方便。", "效律"),
}


@pytest.mark.parametrize("name", list(GUARDS))
def test_guards_keep_names_quotes_numbers_and_terms(det, name):
    guarded, plain, window = GUARDS[name]
    assert [h[0] for h in hits_of(det, plain)] == [window], plain  # the slip alone is found ...
    assert hits_of(det, guarded) == [], guarded  # ... and not where the guard applies


def test_fixed_phrases_of_the_keep_list(det, monkeypatch):
    """依纪依法: the models alone would 'correct' 依纪 to 以及; the keep list (known-words.txt) stops it, and so does
    the series guard (依纪依法 repeats its first character)."""
    s = "对违纪违法问题，要坚持依纪依法处理，绝不姑息迁就。"
    assert hits_of(det, s) == []
    bare = copy.copy(det)  # the same detector without its keep list (own result cache, the shared one stays clean)
    bare.keep, bare._cache = set(), {}
    assert hits_of(bare, s) == []
    monkeypatch.setattr(typo, "_in_series", lambda s, a, n: False)  # neither guard: the slip the guards prevent
    bare._cache = {}
    assert [h[0] for h in hits_of(bare, s)] == ["依纪"]
    for s in ("今年全县新开通村村通客车线路十二条，方便了群众出行。",
              "全面推进广播电视户户通工程，实现村村响、户户通。",
              "今年实现了组组通硬化路，群众出行更加便捷。"):
        assert hits_of(det, s) == [], s
    assert "村村通" in det.keep and "依纪依法" in det.keep


SERIES = [  # (sentence, the window of it that is an item of a parallel series)
    ("对配套幼儿园缓建、缩建、停建的，要及时整改。", "缩建"),
    ("深化放管服改革，推动审批提速提质提效。", "提效"),
    ("通过网格化、信息化和精细化管理，强化空间管控。", "网格化"),
    ("在镇卫生院工作的医师、护师，可提前一年参加考试。", "护师"),
    ("健全社会救助体系，织牢织密兜底保障网。", "织密"),
]


@pytest.mark.parametrize("sentence,window", SERIES, ids=[w for _, w in SERIES])
def test_items_of_a_parallel_series_are_not_slips(sentence, window):
    a = sentence.index(window)
    assert typo._in_series(sentence, a, len(window))


def test_series_guard_leaves_ordinary_slips_alone(det):
    for sentence, written, _ in NEW_FINDS:
        a = sentence.index(written)
        assert not typo._in_series(sentence, a, len(written)), sentence
    # a slip inside a list whose items do not share the slipped character is still found
    assert hits_of(det, "要统筹做好疫情防控、经济发展和安全生产工作，确保全年目标任物圆满完成。") == [("目标任物", "目标任务")]


def test_vulgar_words_are_never_suggested(det):
    """never-suggest.txt: 精益 in a list of virtues once scored 0.95 for 精液 (the statute model knows 精液 from the
    animal husbandry law); no such word is ever a correction."""
    assert {"精液", "阴道", "妓女"} <= det.never
    assert hits_of(det, "大力弘扬科学家精神，倡导敬业、精益、专注、宽容失败的创新文化。") == []
    assert not any(w in det.never for ws in det.homophones.values() for w in ws)
    for key, fx in det.fixes_lm.items():
        assert not any(key.replace("?", c) in det.never for c in fx), key


# ----------------------------------------------------------------------------- 4. fallback (subprocess)
def _probe(setting: str) -> dict:
    return probe(GOVINSPECT_TYPO_LM=setting)


def _falls_back(out: dict) -> None:
    assert out["type"] == "TypoDetector", out
    assert out["hits"] == [["管里", "管理"]]  # scan() still works, with the dictionary method


@needs_lm
def test_default_setting_uses_the_debian_model():
    out = _probe("")
    assert out["type"] == "LmTypoDetector" and out["hits"] == [["管里", "管理"]]
    assert not [r for r in out["records"] if r[1].endswith("wordlm")]


def test_switched_off_falls_back():
    _falls_back(_probe("off"))


def test_switched_off_is_logged():
    out = _probe("off")
    assert [r for r in out["records"] if r[0] == "WARNING" and r[1].endswith("wordlm")], out


def test_missing_model_falls_back_with_a_warning(tmp_path):
    for setting in (str(tmp_path / "absent.lm"), str(tmp_path)):  # no file; a directory
        out = _probe(setting)
        _falls_back(out)
        assert any(r[0] == "WARNING" and "not found" in r[2] and setting in r[2] for r in out["records"]), out


def test_not_a_kenlm_file_falls_back_with_a_warning(tmp_path):
    f = tmp_path / "text.lm"
    f.write_text("这不是语言模型 not a model\n" * 100, encoding="utf-8")
    out = _probe(str(f))
    _falls_back(out)
    assert any(r[0] == "WARNING" and "could not be opened" in r[2] for r in out["records"]), out


def test_garbage_bytes_fall_back_with_a_warning(tmp_path):
    f = tmp_path / "garbage.lm"
    f.write_bytes(b"\x93\xfe\xff KenLM? \x80\x81\n" * 64 + bytes(range(256)) * 16)
    out = _probe(str(f))
    _falls_back(out)
    assert any(r[0] == "WARNING" and "could not be opened" in r[2] for r in out["records"]), out


# ----------------------------------------------------------------------------- 5. hostile text
def _sane(text, hits):
    for h in hits:
        assert text[h.start:h.end] == h.text and len(h.suggestion) == len(h.text) and h.rule == "content.typo"


_PARTS = [p for s in CLEAN for p in s.rstrip("。").split("，")]


@pytest.mark.timeout(120)
def test_hostile_text(det):
    rng = random.Random(7)
    texts = {
        # 1 MB of CJK without any punctuation (a pasted blob, not prose)
        "blob": "".join(rng.choice(_PARTS).replace("、", "") for _ in range(90_000))[:1_000_000],
        # 10,000 short sentences, all different, with one slip at the end
        "many": "".join(f"{rng.choice(_PARTS)}，第{k}项工作{rng.choice(_PARTS)}。" for k in range(10_000)) + NEW_FINDS[0][0],
        "control": "".join(rng.choice(_PARTS) + chr(rng.choice([0, 1, 7, 8, 11, 12, 27, 31, 127, 0x85, 0x2028]))
                           for _ in range(3000)),
        "formula": "=SUM(A1:A9)，" + "=cmd|' /C calc'!A0，提高服务效律。" * 200,
        "latin-digits": "".join(f"{rng.choice(_PARTS)}ABC{k}x9，GDP增长5.2%，第{k}号{rng.choice(_PARTS)}。" for k in range(2000)),
        "replacement": "\ufffd" * 100_000 + "，" + "提高效律\ufffd\ufffd，" * 1000 + "。",
        "one-char": "的" * 200_000 + "，" + "效" * 200_000 + "。" + "，".join(["效律"] * 5000) + "。",
        "empty": "",
        "spaces": " \u3000\t\n" * 10_000,
    }
    for name, text in texts.items():
        hits = det.scan(text)
        assert isinstance(hits, list), name
        _sane(text, hits)
        if name == "many":
            assert [(h.text, h.suggestion) for h in hits] == [("责人", "责任")]
            assert hits[0].start > len(text) - len(NEW_FINDS[0][0])
        if name in ("blob", "formula", "replacement", "one-char", "empty", "spaces"):
            assert hits == [], (name, hits[:3])  # not prose, a repeated term, or guarded


@pytest.mark.timeout(120)
def test_long_sentence_without_full_stops(det):
    """100,000 characters of clauses joined by commas: one 'sentence' for the detector."""
    rng = random.Random(3)
    text = "，".join(rng.choice(_PARTS) for _ in range(10_000))[:100_000] + "，" + NEW_FINDS[1][0]
    hits = det.scan(text)
    _sane(text, hits)
    assert ("生太", "生态") in [(h.text, h.suggestion) for h in hits]


@pytest.mark.timeout(30, method="signal")  # signal: the timeout fails this test only
def test_half_megabyte_sentence_is_linear(det):
    rng = random.Random(4)
    text = "、" + "".join(rng.choice(_PARTS) for _ in range(60_000))[:500_000] + "。"
    _sane(text, det.scan(text))


# ----------------------------------------------------------------------------- 6. integration
def _cli_command():
    script = Path(sys.executable).parent / "govinspect"
    return [str(script)] if script.exists() else [sys.executable, "-m", "govinspect.cli"]


@needs_lm
def test_check_text_cli_reports_the_context_methods_hit(tmp_path):
    sentence, written, fixed = NEW_FINDS[0]
    f = tmp_path / "稿件.txt"
    f.write_text(CLEAN[0] + "\n" + sentence + "\n", encoding="utf-8")
    r = subprocess.run([*_cli_command(), "check-text", str(f), "--json"], capture_output=True, text=True, timeout=180,
                       cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    out = [d for d in json.loads(r.stdout) if d["rule"] == "content.typo"]
    assert [(d["text"], d["suggestion"]) for d in out] == [(written, fixed)]
    text = f.read_text(encoding="utf-8")
    assert text[out[0]["start"]:out[0]["end"]] == written


@needs_lm
def test_worker_process_rebuilds_the_context_detector():
    """The engine's pool sends a ContentChecker pickled (__reduce__ -> _rebuild): a fresh process must rebuild it with
    the context detector, not the dictionary one."""
    checker = ContentChecker(only=("content.typo",))
    assert isinstance(checker.typos, LmTypoDetector) or not isinstance(detector(), LmTypoDetector)
    code = ("import pickle, sys, json\n"
            "c = pickle.loads(sys.stdin.buffer.read())\n"
            f"hits = [[h.text, h.suggestion] for h in c.check({NEW_FINDS[2][0]!r})]\n"
            "print(json.dumps({'type': type(c.typos).__name__, 'hits': hits}, ensure_ascii=False))\n")
    r = subprocess.run([sys.executable, "-c", code], input=pickle.dumps(checker), capture_output=True, timeout=120, cwd=ROOT)
    assert r.returncode == 0, r.stderr.decode(errors="replace")[-2000:]
    out = json.loads(r.stdout.decode().strip().splitlines()[-1])
    assert out == {"type": "LmTypoDetector", "hits": [["篇张", "篇章"]]}


# ----------------------------------------------------------------------------- 7. real data
@pytest.fixture(scope="module")
def realdata_dump():
    sql = REALDATA / "pages" / "govcn-policy-fragments.sql"
    if not sql.exists():
        pytest.skip(f"{sql} is not present")
    return REALDATA


@pytest.mark.timeout(300)
def test_false_alarms_on_the_govcn_dump_and_the_real_pages(det, realdata_dump):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from typo_false_alarms import false_alarms
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    for sources in (("dump",), ("pages",)):
        chars, hits, _ = false_alarms(realdata_dump, det, sources=sources)
        assert chars > 100_000
        assert len(hits) / chars * 100_000 <= 3, (sources, [(h.text, h.suggestion) for _, _, h in hits])


@pytest.mark.timeout(300)
def test_held_out_accuracy_beats_the_dictionary_method(det, realdata_dump):
    from govinspect.engine.content.typo import measure

    odw = realdata_dump / "spelling" / "ecspell-odw.train"
    if not odw.exists():
        pytest.skip(f"{odw} is not present")
    n = sum(1 for _ in open(odw, encoding="utf-8"))
    held_out = slice(n // 2, None)  # lm-model.json was fitted on the first half
    new = measure(odw, held_out, det)
    old = measure(odw, held_out, classic_detector())
    assert new["sentences"] == n - n // 2
    assert new["char_precision"] >= 0.95, new
    assert new["char_recall"] >= 0.35, new  # issue 20's target on the held-out half (measured 0.355)
    assert new["char_recall"] > 2 * old["char_recall"], (new, old)


# ----------------------------------------------------------------------------- review: hostile characters
def test_lone_surrogates_do_not_break_the_scan(det):
    """A str may carry lone surrogates (JSON "\\ud800", surrogateescape decoding); jieba and KenLM take UTF-8 only.
    The scan goes on around them, positions unchanged."""
    text = "要进一步加强安全生产监督管里\ud800，确保不发生\udfff重大事故。要进一步加强安全生产监督\udc80里，确保安全。"
    hits = det.scan(text)
    assert [(h.start, h.text, h.suggestion) for h in hits] == [(12, "管里", "管理")]
    assert classic_detector().scan(text) == hits


def test_sound_alike_cache_is_not_filled_by_other_characters(det):
    """_tried caches the candidates of characters outside the confusion sets; it once took any character up to
    200,000 entries and then cached nothing more, so a page of 200,000 distinct non-CJK characters (Extension B,
    private use) made every rare character cost a pypinyin call, in that process, for good (14x slower scans)."""
    d = copy.copy(det)
    d._tried, d._cache = dict(det._tried), {}
    flood = "".join(chr(c) for c in range(0x20000, 0x20000 + 210_000))  # Extension B onwards, assigned or not
    d.scan(flood)
    assert all(typo._CJK.match(c) for c in d._tried)  # only CJK characters: at most 20,992 entries
    rare = next(c for c in map(chr, range(0x9fa5, 0x4e00, -1)) if c not in d._tried)
    d.scan(f"要进一步加强安全生产{rare}督管理，确保不发生重大事故。")
    assert rare in d._tried  # still cached after the flood
