"""Referral network arithmetic, without the ORM (SPEC section 3).

Codes, the upline encoded in a materialized path and rank rules.  Ranks are
earned on settled sales volume only: nothing here can count recruits.
"""

import secrets
from dataclasses import dataclass

#: Unambiguous upper-case alphabet (no 0/O, 1/I/L): 32 symbols, 5 bits each.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
#: 10 symbols of a 31-symbol alphabet: about 49.5 bits, short enough to type.
CODE_LENGTH = 10


def new_code(length=CODE_LENGTH):
    """A random referral code: unguessable (``secrets``) and short."""
    return "".join(secrets.choice(CODE_ALPHABET) for _i in range(length))


def normalize_code(code):
    """The canonical form of a typed or scanned code (``None`` if it cannot be one).

    >>> normalize_code(" ab3k-9x ")
    'AB3K9X'
    """
    if not isinstance(code, str):
        return None
    code = "".join(code.split()).replace("-", "").upper()
    if not code or len(code) > 32 or any(c not in CODE_ALPHABET for c in code):
        return None
    return code


def path_ids(parent_path):
    """Node ids of a materialized path ``"1/5/9/"``, root first, self last.

    >>> path_ids("1/5/9/")
    [1, 5, 9]
    """
    return [int(part) for part in (parent_path or "").split("/") if part]


def upline_ids(parent_path):
    """Ancestors of the node whose path this is, nearest first.

    >>> upline_ids("1/5/9/")
    [5, 1]
    """
    return path_ids(parent_path)[-2::-1]


def creates_cycle(node_path, new_parent_path):
    """Whether moving the node at ``node_path`` under ``new_parent_path`` loops.

    A node may not be placed under itself or under any of its descendants,
    i.e. under any path that starts with its own.

    >>> creates_cycle("1/5/", "1/5/9/")
    True
    >>> creates_cycle("1/5/", "1/6/")
    False
    """
    return bool(node_path) and (new_parent_path or "").startswith(node_path)


@dataclass(frozen=True)
class RankRule:
    """One rank: its level (1 = lowest) and the settled volumes that earn it.

    A threshold of ``None`` is not a condition; a rank with no threshold at
    all is never earned by volume (only by a manager or a package product).
    Volumes are integers of the currency's smallest unit.
    """

    rank_id: int
    level: int
    min_own: int | None = None
    min_team: int | None = None

    @property
    def earnable(self):
        return self.min_own is not None or self.min_team is not None

    def holds(self, own, team):
        return (
            self.earnable
            and (self.min_own is None or own >= self.min_own)
            and (self.min_team is None or team >= self.min_team)
        )


def earned_rank(rules, own, team, current_level=0, package_level=0):
    """The rank a member should hold: the highest earned, never lower than now.

    :param rules: :class:`RankRule` of one company
    :param own: the member's own settled sales volume (minor units)
    :param team: the settled volume of the member's whole downline (minor units)
    :param current_level: level held now (ranks are not taken away by the job)
    :param package_level: level granted by a settled package product, if any
    :return: the :class:`RankRule` to hold, or ``None`` to keep the current one

    ======  =======  ======  =======================
    own     team     now     result (会员 0/0, 合伙人 1000/10000)
    ======  =======  ======  =======================
    0       0        0       会员 if 会员 has a threshold of 0, else None
    1000    9999     1       None (合伙人 needs both)
    1000    10000    1       合伙人
    ======  =======  ======  =======================
    """
    best = None
    for rule in sorted(rules, key=lambda r: r.level):
        if rule.holds(own, team) or (package_level and rule.level == package_level):
            best = rule
    if best and best.level > current_level:
        return best
    return None
