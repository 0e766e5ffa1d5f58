"""Hidden links (暗链): the links of a page a reader cannot see, with the CSS that hides them as evidence.

Ways of hiding: display:none / visibility:hidden / the hidden attribute (weak: drop-down menus, tabs and
pop-ups use them every day), and the strong ones a legitimate page has no use for: zero font size (unless a
descendant sets a size again, or the link is an image), off-screen positioning (-999px and beyond, not an
image-replacement logo with a background image), a zero-size or 1-2px container with overflow hidden, text in
the background colour, a 1px or unreadably fast <marquee>. Rules of the page's <style> blocks count, by class,
id, tag and descendant selectors (grouped selectors too). A hidden element that the page shows on hover, focus
or click (a :hover or state-class rule revealing the same element, an event handler around it, its id used by a
script) is a menu, not a 暗链: its evidence carries TOGGLED and is weak.

hiding_is_weak(evidence) says whether a hiding alone proves nothing (engine.checks.links decides with it).

Pages are hostile input and this runs in the crawler's event loop: every scan here is linear in the page
(comments stripped by str.find, declaration patterns applied one declaration at a time with no unbounded
backtracking), selectors and rules are capped, identical rules evaluated once, and the rule x element work of a
page is bounded (_BUDGET): past it, the rest of the sheet's hiding rules are not applied (a miss, never an
accusation) and a link whose font size or background image could not be checked is not reported.
"""

from __future__ import annotations

import functools
import re

from lxml import etree

TOGGLED = "（悬停或点击时显示）"
_WEAK = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden|\bhidden>|" + re.escape(TOGGLED), re.I)


def hiding_is_weak(evidence: str | None) -> bool:
    """True for hiding a page does for menus, tabs and pop-ups (display:none, visibility:hidden, hidden, or any
    hiding the page undoes on hover or click): not evidence of a 暗链 by itself."""
    return bool(evidence) and bool(_WEAK.search(evidence))


_NONE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_FONT0 = re.compile(r"(?<![-\w])font-size\s*:\s*0(?:\.0+)?(?:px|pt|em|rem|%)?\s*(?:;|$|!)", re.I)
_OFFSCREEN = re.compile(r"(?<![-\w])(text-indent|left|top|right|margin-left|margin-top)\s*:\s*-\s*(\d+(?:\.\d+)?)\s*(px|em|rem|pt)?", re.I)
_TINY_BOX = re.compile(r"(?<![-\w])(?:width|height)\s*:\s*[0-2](?:\.\d+)?\s*(?:px)?\s*(?:;|$|!)", re.I)
_OVERFLOW_HIDDEN = re.compile(r"overflow\s*:\s*hidden", re.I)
_BG_PROP = re.compile(r"background(?:-image)?\s*:", re.I)
_COLOR = re.compile(r"(?<![-\w])color\s*:\s*(#[0-9a-f]{3,6}|[a-z]+)", re.I)
_BG = re.compile(r"background(?:-color)?\s*:\s*(#[0-9a-f]{3,6}|[a-z]+)", re.I)
_FONT_PROP = re.compile(r"(?<![-\w])font(?:-size)?\s*:", re.I)
_FONT_SIZE = re.compile(r"(?<![\w.])(?:[1-9]\d*(?:\.\d+)?|0?\.\d*[1-9])\s*(?:px|pt|em|rem|%)", re.I)
_OFFSCREEN_PX = 999  # off-screen from this far out (em and rem count 16px)


def _bg_image(style: str) -> bool:
    """A declaration `background: ... url(` or `background-image: url(`.

    One declaration at a time, from the first property name on: as `background(-image)?:[^;]*url[(]` over the
    whole style, without its quadratic backtracking on `background:` repeated with no `;`."""
    if "url(" not in style.lower():
        return False
    for decl in style.split(";"):
        m = _BG_PROP.search(decl)
        if m and "url(" in decl[m.end():].lower():
            return True
    return False


def _font_set(style: str) -> bool:
    """A declaration `font: ... 12px` or `font-size: 12px` (a non-zero size), one declaration at a time (as
    `font(-size)?:[^;]*?<size>`, without its quadratic backtracking on `font:` repeated with no `;`)."""
    if "font" not in style.lower():
        return False
    for decl in style.split(";"):
        m = _FONT_PROP.search(decl)
        if m and _FONT_SIZE.search(decl, m.end()):
            return True
    return False


def _hiding(style: str) -> str | None:
    """The style when it hides what it applies to, else None."""
    if not style:
        return None
    low = style.lower()
    # plain substring tests first: a style sheet has thousands of rules and the patterns are slow to scan
    if ("none" in low or "hidden" in low) and _NONE.search(style):
        return style
    if "font-size" in low and _FONT0.search(style):
        return style
    if "-" in low:
        image = None
        for m in _OFFSCREEN.finditer(style):
            px = float(m.group(2)) * (16 if (m.group(3) or "").lower() in ("em", "rem") else 1)
            if px >= _OFFSCREEN_PX and m.group(1).lower() == "text-indent" and image is None:
                image = _bg_image(style)
            if px >= _OFFSCREEN_PX and not (m.group(1).lower() == "text-indent" and image):
                return style  # (a text-indented logo with a background image is seen as the image)
    if "overflow" in low and "hidden" in low and _OVERFLOW_HIDDEN.search(style) and _TINY_BOX.search(style):
        return style
    if "background" in low:
        c, b = _COLOR.search(style), _BG.search(style)
        if c and b and c.group(1).lower() == b.group(1).lower():
            return style
    return None


def _hides_otherwise(style: str, but: str = "font-size") -> bool:
    """The declarations hide by something other than `but` (a zero font size, a text indent) too."""
    rest = ";".join(d for d in style.split(";") if not d.strip().lower().startswith(but))
    return _hiding(rest) is not None


# ----------------------------------------------------------------------------------------------- style sheets
_COMPOUND = re.compile(r"([a-z][\w-]*|\*)?((?:[.#][\w-]+)*)\Z", re.I)
_PSEUDO = re.compile(r"::?[\w-]+(?:\([^)]{0,200}\))?")  # bounded: `:a(` repeated with no `)`
# classes that scripts switch on to show a menu, tab or pop-up
_STATE = {"on", "active", "show", "open", "hover", "cur", "current", "selected", "in", "expanded", "block", "visible"}
_SHOWS = re.compile(r"display\s*:\s*(?!none)[a-z-]+|visibility\s*:\s*visible|(?<![-\w])(?:left|top|right|text-indent|margin-left|margin-top)\s*:\s*(?:auto|0|\d)"
                    r"|(?<![-\w])(?:height|width|max-height)\s*:\s*(?:auto|[3-9]|\d{2})", re.I)


def _self_hover(sel: str) -> bool:
    """`.x:hover {left:0}` reveals nothing: a hidden element cannot be hovered (an ancestor's :hover can)."""
    parts = sel.replace(">", " ").split()
    return ":hover" in parts[-1] and not any(":" in p or _unstated(p) != p for p in parts[:-1])


def _compound(text: str) -> tuple[str | None, str | None, frozenset] | None:
    """(tag, id, classes) of a simple compound selector (div#x.a.b), None for anything else."""
    m = _COMPOUND.match(text)
    if not m or not (m.group(1) or m.group(2)):
        return None
    tag = (m.group(1) or "").lower()
    ids = re.findall(r"#([\w-]+)", m.group(2))
    return (tag if tag not in ("", "*") else None, ids[0] if ids else None,
            frozenset(re.findall(r"\.([\w-]+)", m.group(2))))


def _parse_selector(sel: str) -> list | None:
    """Compounds of a descendant selector ("#nav li ul"; ">" read as descendant), None when not supported."""
    parts = sel.replace(">", " ").split()
    out = [_compound(p) for p in parts]
    return out if out and all(out) else None


def _unstated(sel: str) -> str:
    """A selector without pseudo-classes and state classes: ".nav li:hover ul" -> ".nav li ul"."""
    s = _PSEUDO.sub("", sel)
    return re.sub(r"\.([\w-]+)", lambda m: "" if m.group(1).lower() in _STATE else m.group(0), s)


def _matches(el, comp) -> bool:
    tag, id_, classes = comp
    if tag and el.tag != tag:
        return False
    if id_ and el.get("id") != id_:
        return False
    return not classes or classes <= set((el.get("class") or "").split())


def _selector_matches(el, compounds) -> bool:
    if not _matches(el, compounds[-1]):
        return False
    anc = el.getparent()
    for comp in reversed(compounds[:-1]):
        while anc is not None and not _matches(anc, comp):
            anc = anc.getparent()
        if anc is None:
            return False
        anc = anc.getparent()
    return True


_MAX_RULES = 20_000  # style rules read from a page's sheets
_MAX_PRELUDE = 10_000  # characters of a rule's selector list (longer ones are skipped)
_MAX_SELECTOR = 1_000  # characters of one selector (longer ones are skipped)
_BUDGET = 100_000  # selector x element evaluations a page may cost


def _strip_comments(css: str) -> str:
    """The sheet without /* comments */ (an unterminated one runs to the end), in linear time."""
    out, pos = [], 0
    while (i := css.find("/*", pos)) >= 0:
        out.append(css[pos:i])
        j = css.find("*/", i + 2)
        if j < 0:
            return "".join(out)
        pos = j + 2
    out.append(css[pos:])
    return "".join(out)


def _css_rules(css: str):
    """(selector, declarations) of every style rule of a sheet, outside @media and other at-rules (the first
    _MAX_RULES rules; a rule with nested rules has the declarations before the first of them)."""
    css = _strip_comments(css)
    stack: list[list] = []  # [prelude, start of the body, end of the body: its first nested block, if any]
    at_rules = 0  # at-rules on the stack
    pos, n = 0, 0
    for m in re.finditer(r"[{}]", css):
        if m.group() == "{":
            if stack and stack[-1][2] is None:
                stack[-1][2] = m.start()  # a nested rule: the body ends there (the bodies stay disjoint: linear)
            prelude = css[pos:m.start()].strip()
            stack.append([prelude, m.end(), None])
            at_rules += prelude.startswith("@")
        elif stack:
            prelude, start, end = stack.pop()
            at_rules -= prelude.startswith("@")
            if prelude and not prelude.startswith("@") and not at_rules and len(prelude) <= _MAX_PRELUDE:
                yield prelude, css[start:m.start() if end is None else end].strip()
                n += 1
                if n >= _MAX_RULES:
                    return
        pos = m.end()


@functools.lru_cache(maxsize=16)  # the pages of one template share their style sheets
def _sheet_rules(css: str) -> tuple[tuple, frozenset, tuple, tuple]:
    """(hiding rules as (selector, compounds, declarations), selectors revealed by a :hover / :focus / state-class
    rule (unstated), selectors setting a non-zero font size, selectors giving a background image)."""
    hiding, revealed, fonts, images = [], set(), [], []
    seen: set[tuple[str, str]] = set()  # identical rules (a sheet repeated, or hostile copies) count once
    for prelude, body in _css_rules(css):
        low = body.lower()
        hides = _hiding(body)
        shows = ("display" in low or "visib" in low or "left" in low or "top" in low or "height" in low
                 or "width" in low or "indent" in low or "margin" in low) and _SHOWS.search(body)
        sizes = _font_set(body)
        image = _bg_image(body)
        if not (hides or shows or sizes or image):
            continue
        for sel in (s.strip() for s in prelude.split(",")):
            if len(sel) > _MAX_SELECTOR or (sel, body) in seen:
                continue
            seen.add((sel, body))
            if hides:
                comps = _parse_selector(sel)
                if comps:
                    hiding.append((sel, comps, body))
            if shows and (":" in sel or "." in sel) and _unstated(sel) != sel and not _self_hover(sel):
                revealed.add(" ".join(_unstated(sel).replace(">", " ").split()))
            if sizes:
                fonts.append(sel)
            if image:
                images.append(sel)
    return tuple(hiding), frozenset(revealed), tuple(fonts), tuple(images)


def _parsed(selectors: tuple) -> list:
    return [c for c in (_parse_selector(_PSEUDO.sub("", s)) for s in selectors) if c]


class _Sheet:
    """What a page's <style> blocks say about hiding: the hiding rules, the selectors revealed on hover or by a
    state class, and the rules that set a font size or a background image (parsed when first asked)."""

    def __init__(self, root):
        css = "\n".join(st.text or "" for st in root.iter("style"))
        self.hiding, self.revealed, self._fonts, self._images = _sheet_rules(css) if css.strip() else ((), frozenset(), (), ())
        self._revealed_last = frozenset(r.split()[-1] for r in self.revealed)
        self.fonts: list | None = None
        self.images: list | None = None
        self.budget = _BUDGET  # selector x element evaluations left for this page

    def toggled(self, sel: str) -> bool:
        """The page shows what `sel` hides on hover, focus or when a script sets a state class (the same selector,
        or the same last class or id under another)."""
        norm = " ".join(sel.replace(">", " ").split())
        last = norm.split()[-1]
        return norm in self.revealed or (("." in last or "#" in last) and last in self._revealed_last)

    def spend(self, n: int) -> bool:
        """Take n evaluations from the page's budget: False when it is spent."""
        self.budget -= n
        return self.budget >= 0

    def sets_font(self, el) -> bool:
        """A rule sets a font size on el (True too when the budget is spent: unchecked, not an accusation)."""
        if self.fonts is None:
            self.fonts = _parsed(self._fonts)
        return not self.spend(len(self.fonts)) or any(_selector_matches(el, comps) for comps in self.fonts)

    def has_image(self, el) -> bool:
        """A rule gives el a background image (True too when the budget is spent: unchecked, not an accusation)."""
        if self.images is None:
            self.images = _parsed(self._images)
        return not self.spend(len(self.images)) or any(_selector_matches(el, comps) for comps in self.images)


_STYLE_ATTR = re.compile(rb"style\s*=")
_ID_WORD = re.compile(r"[\w-]+")
# ids a script names: a maximal [\w-]+ run after a quote or # and before a quote, space or dot (the lookahead
# leaves that character to start the next name)
_SCRIPT_ID = re.compile(r"['\"#]([\w-]+)(?=['\"\s.])")
_HANDLERS = ("onmouseover", "onmouseenter", "onclick", "onfocus", "onmousemove")


def _may_hide(low: bytes) -> bool:
    """False when the source (UTF-8, ASCII letters lower-cased) has no style sheet, style attribute, hidden
    attribute or marquee.

    Attribute names cannot be escaped, so such a page has no element that could hide anything. Substring
    searches, not one regex over the page: an alternation is tried at every position (100 us a page).
    """
    if b"hidden" in low or b"<marquee" in low:
        return True
    i = low.find(b"style")
    while i >= 0:
        if low[i - 1:i] == b"<" or _STYLE_ATTR.match(low, i):
            return True
        i = low.find(b"style", i + 5)
    return False


def _int(v: str | None) -> int | None:
    m = re.match(r"\s*(\d+)", v or "")
    return int(m.group(1)) if m else None


def _marquee(el) -> str | None:
    """Evidence when a <marquee> cannot be read: 1-2 pixels high or wide, or scrolling too fast to read."""
    w, h, amount = _int(el.get("width")), _int(el.get("height")), _int(el.get("scrollamount"))
    style = el.get("style") or ""
    tiny = (w is not None and w <= 2) or (h is not None and h <= 2) or bool(_TINY_BOX.search(style))
    if tiny or (amount is not None and amount >= 500):
        attrs = " ".join(f'{k}="{el.get(k)}"' for k in ("width", "height", "scrollamount", "style") if el.get(k) is not None)
        return f"<marquee {attrs}>"[:200]
    return None


class _Page:
    def __init__(self, root):
        self.root = root
        self.sheet = _Sheet(root)
        self._scripts: str | None = None
        self._script_ids: frozenset | None = None

    def scripts(self) -> str:
        if self._scripts is None:
            self._scripts = " ".join(s.text or "" for s in self.root.iter("script"))
        return self._scripts

    def script_names(self, id_: str) -> bool:
        """A script names the id ('x', "x", #x, followed by a quote, space or dot): the names are collected in
        one scan, not searched for once per hidden element."""
        if not _ID_WORD.fullmatch(id_):
            return re.search(r"['\"#]" + re.escape(id_) + r"['\"\s.]", self.scripts()) is not None
        if self._script_ids is None:
            self._script_ids = frozenset(_SCRIPT_ID.findall(self.scripts()))
        return id_ in self._script_ids

    def toggled_inline(self, el) -> bool:
        """A hidden element an event handler around it or a script that names its id shows (menus, pop-ups)."""
        node, depth = el, 0
        while node is not None and depth < 3:
            if any(node.get(h) for h in _HANDLERS):
                return True
            node, depth = node.getparent(), depth + 1
        id_ = el.get("id")
        return bool(id_) and self.script_names(id_)

    def font_restored(self, a, hider) -> bool:
        """Under a font-size:0 container the link shows anyway: it is an image, or it or an element between it
        and the container sets a font size again (the inline-block gap trick)."""
        if a.find(".//img") is not None:
            return True
        node = a
        while node is not None and node is not hider:
            if _font_set(node.get("style") or "") or self.sheet.sets_font(node):
                return True
            node = node.getparent()
        return False

    def image_replaced(self, a, hider) -> bool:
        """Text indented off-screen over a background image (a logo or badge link): the image is seen."""
        node = a
        while node is not None:
            if _bg_image(node.get("style") or "") or self.sheet.has_image(node) or a.find(".//img") is not None:
                return True
            if node is hider:
                return False
            node = node.getparent()
        return False


def _inline_evidence(page: _Page, el) -> str | None:
    if el.tag == "marquee":
        why = _marquee(el)
        if why:
            return why
    h = _hiding(el.get("style") or "")
    if h:
        why = f'<{el.tag} style="{h.strip()[:160]}">'
    elif el.get("hidden") is not None:
        why = f"<{el.tag} hidden>"
    else:
        return None
    if not _NONE.search(why) and el.get("hidden") is None and page.toggled_inline(el):
        why += TOGGLED
    return why


def _index(root, rules) -> dict[str, list]:
    """Elements by "#id", ".class" and tag, for the keys the hiding rules' last compounds ask for: one walk."""
    want = set()
    for _, comps, _ in rules:
        tag, id_, classes = comps[-1]
        want.add("#" + id_ if id_ else "." + min(classes) if classes else tag)
    tags = {k for k in want if k[0] not in "#."}
    out: dict[str, list] = {}
    for el in root.iter(etree.Element):
        if el.tag in tags:
            out.setdefault(el.tag, []).append(el)
        i = el.get("id")
        if i and "#" + i in want:
            out.setdefault("#" + i, []).append(el)
        c = el.get("class")
        if c:
            for name in c.split():
                if "." + name in want:
                    out.setdefault("." + name, []).append(el)
    return out


def hidden_links(root, low: bytes | None = None) -> dict[str, str]:
    """href (as written) -> CSS evidence, for the links a reader cannot see (暗链 candidates).

    Only the few elements that carry a hiding style, a hidden attribute, a marquee or a hiding rule's selector
    are visited, so pages without any cost nothing. A link under several hiders gets a strong one's evidence.
    """
    if low is not None and not _may_hide(low):
        return {}  # no style attribute or sheet, no hidden attribute, no marquee: nothing can hide
    page = _Page(root)
    hiders: list[tuple[object, str, str]] = []  # (element, evidence, the hiding declarations)
    for el in root.iter(etree.Element):
        if el.get("style") is not None or el.get("hidden") is not None or el.tag == "marquee":
            why = _inline_evidence(page, el)
            if why:
                hiders.append((el, why, el.get("style") or ""))
    index = _index(root, page.sheet.hiding) if page.sheet.hiding else {}
    for sel, comps, body in page.sheet.hiding:
        tag, id_, classes = comps[-1]
        cands = index.get("#" + id_ if id_ else "." + min(classes) if classes else tag, ())
        if not page.sheet.spend(len(cands)):
            break  # the page's budget is spent: the remaining rules are not applied (misses, not accusations)
        toggled = None
        for el in cands:
            if _selector_matches(el, comps):
                if toggled is None:
                    toggled = page.sheet.toggled(sel)
                hiders.append((el, f"{sel} {{{body[:160]}}}" + (TOGGLED if toggled and not _NONE.search(body) else ""), body))
    out: dict[str, str] = {}
    for el, why, style in hiders:
        # only a font size or a text indent hides it (not display:none as well): the link may show after all
        only_font = not _NONE.search(style) and bool(_FONT0.search(style)) and not _hides_otherwise(style)
        only_indent = not _NONE.search(style) and "text-indent" in style.lower() and not _hides_otherwise(style, "text-indent")
        for a in ([el] if el.tag == "a" else []) + list(el.iter("a")):
            href = (a.get("href") or "").strip()
            if not href or (only_font and page.font_restored(a, el)) or (only_indent and page.image_replaced(a, el)):
                continue
            if href not in out or (hiding_is_weak(out[href]) and not hiding_is_weak(why)):
                out[href] = why
    return out
