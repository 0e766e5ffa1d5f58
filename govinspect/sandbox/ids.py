"""Valid and invalid personal identifiers for planting (GB 11643 check digit, Luhn)."""

from __future__ import annotations

import random

_W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_C = "10X98765432"


def id_check_digit(first17: str) -> str:
    return _C[sum(int(a) * w for a, w in zip(first17, _W)) % 11]


def make_id(rng: random.Random, area: str = "130535") -> str:
    y, m, d = rng.randint(1950, 2005), rng.randint(1, 12), rng.randint(1, 28)
    body = f"{area}{y:04d}{m:02d}{d:02d}{rng.randint(0, 999):03d}"
    return body + id_check_digit(body)


def make_bad_id(rng: random.Random) -> str:
    good = make_id(rng)
    wrong = [c for c in _C if c != good[-1]]
    return good[:17] + rng.choice(wrong)


def luhn_digit(partial: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(partial)):
        n = int(ch)
        if i % 2 == 0:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return str((10 - total % 10) % 10)


def make_card(rng: random.Random) -> str:
    partial = "622848" + "".join(str(rng.randint(0, 9)) for _ in range(12))
    return partial + luhn_digit(partial)


def make_bad_card(rng: random.Random) -> str:
    good = make_card(rng)
    return good[:-1] + str((int(good[-1]) + 1) % 10)


def make_mobile(rng: random.Random) -> str:
    return rng.choice(["138", "139", "150", "186", "177", "199"]) + "".join(str(rng.randint(0, 9)) for _ in range(8))


def mask_id(v: str) -> str:
    return v[:4] + "*" * 10 + v[-4:]


def mask_mobile(v: str) -> str:
    return v[:3] + "****" + v[-4:]
