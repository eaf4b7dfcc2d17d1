"""Differentiable ``einsum`` and the derivative rules of the ``einsum_args`` primitive.

``einsum(subscripts, *operands)`` first rewrites the subscripts to an explicit form with
letters only (the implicit output and ``...`` are spelled out), then calls the primitive.
The rules are einsums again:

* reverse, operand i: contract the output cotangent with the other operands onto operand
  i's letters (``"ij,jk->ik"``: Abar = einsum("ik,jk->ij", g, B)); letters that only operand
  i has are broadcast back, size-1 (broadcast) axes are summed;
* forward, operand i: give the tangent an extra batch letter ``z`` in front and prepend it
  to the output (``"zij,jk->zik"``).

A label repeated within one operand (a diagonal, ``"ii->i"``) is handled by placing that
operand's cotangent back on the diagonal (an einsum with identity matrices).
"""
from __future__ import annotations

import string

import numpy as np

from . import primitives as p
from .core import _static, as_array
from .rules import shape_of

LETTERS = string.ascii_letters


# =======================================================================================
# subscripts
# =======================================================================================

def parse(subscripts: str, shapes: list[tuple]) -> tuple[list[str], str]:
    """(input terms, output term), explicit and with ``...`` replaced by letters."""
    if not isinstance(subscripts, str):
        raise TypeError("einsum takes the subscripts as a string, e.g. "
                        "einsum('ij,jk->ik', a, b), or the interleaved form "
                        "einsum(a, [0, 1], b, [1, 2], [0, 2]).")
    spec = subscripts.replace(" ", "")
    lhs, arrow, out = spec.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum subscripts {subscripts!r} name {len(terms)} operands but "
                         f"{len(shapes)} were given.")
    used = set(spec) - set(".,->")
    bad = used - set(LETTERS)
    if bad:
        raise ValueError(f"einsum subscripts {subscripts!r}: invalid labels {sorted(bad)}.")
    n_ell = 0
    for term, shape in zip(terms, shapes):
        if "..." in term:
            n_ell = max(n_ell, len(shape) - (len(term) - 3))
    free = [c for c in LETTERS if c not in used]
    ell = "".join(free[:n_ell])
    new_terms = []
    for term, shape in zip(terms, shapes):
        if "..." in term:
            k = len(shape) - (len(term) - 3)
            term = term.replace("...", ell[n_ell - k:] if k else "")
        if len(term) != len(shape):
            raise ValueError(f"einsum subscripts {subscripts!r}: term {term!r} has "
                             f"{len(term)} labels for an operand of shape {shape}.")
        new_terms.append(term)
    if arrow:
        out = out.replace("...", ell)
    else:
        joined = "".join(terms).replace("...", "")
        out = ell + "".join(sorted(c for c in set(joined) if joined.count(c) == 1))
    return new_terms, out


def einsum(subscripts, *operands):
    """numpy.einsum (implicit or explicit output, with ``...``), differentiable; also in
    numpy's interleaved form ``einsum(a, [0, 1], b, [1, 2], [0, 2])``."""
    if not isinstance(subscripts, str):
        subscripts, *operands = interleaved((subscripts, *operands))
    operands = [as_array(op) for op in operands]   # lists of traced values: arrays
    shapes = [np.shape(_static(op)) for op in operands]
    terms, out = parse(subscripts, shapes)
    return p.einsum_args(",".join(terms) + "->" + out, *operands)


def interleaved(args: tuple) -> tuple:
    """(a, [0, 1], b, [1, 2], [0, 2]) -> ("ab,bc->ac", a, b): integer labels become letters
    and Ellipsis "..."; a last, unpaired sublist is the output."""
    def spell(sublist) -> str:
        out = []
        for item in sublist:
            if item is Ellipsis:
                out.append("...")
            elif isinstance(item, (int, np.integer)) and 0 <= item < len(LETTERS):
                out.append(LETTERS[item])
            else:
                raise ValueError(f"einsum: a label of the interleaved form must be an integer "
                                 f"in [0, {len(LETTERS)}) or Ellipsis, not {item!r}.")
        return "".join(out)

    pairs = len(args) // 2
    spec = ",".join(spell(sub) for sub in args[1:2 * pairs:2])
    if len(args) % 2:
        spec += "->" + spell(args[-1])
    return (spec, *args[0:2 * pairs:2])


def split(subscripts: str) -> tuple[list[str], str]:
    lhs, _, out = subscripts.partition("->")
    return lhs.split(","), out


# =======================================================================================
# rules
# =======================================================================================

def _einsum_vjp(i: int):
    """The cotangent of operand ``i`` (argument ``i``; argument 0 is the subscripts)."""
    def rule(g, ans, subscripts, *operands):
        terms, out = split(subscripts)
        mine = terms[i - 1]
        shape = shape_of(operands[i - 1])
        size = {c: shape[k] for k, c in enumerate(mine)}
        unique = "".join(dict.fromkeys(mine))
        others = [t for k, t in enumerate(terms) if k != i - 1]
        other_ops = [op for k, op in enumerate(operands) if k != i - 1]
        available = set(out).union(*others)
        kept = "".join(c for c in unique if c in available)
        gi = p.einsum_args(",".join([out] + others) + "->" + kept, g, *other_ops)
        # sum over axes where operand i was broadcast (size 1 against a larger size)
        stretched = tuple(k for k, (c, n) in enumerate(zip(kept, shape_of(gi)))
                          if size[c] == 1 and n != 1)
        if stretched:
            gi = p.sum(gi, axis=stretched, keepdims=True)
        if kept != unique:
            # labels only operand i has: the output did not depend on them; broadcast back
            gi = p.reshape(gi, tuple(shape_of(gi)[kept.index(c)] if c in kept else 1
                                     for c in unique))
        unique_shape = tuple(size[c] for c in unique)
        if shape_of(gi) != unique_shape:
            gi = p.broadcast_to(gi, unique_shape)
        if unique != mine:
            gi = _onto_diagonals(gi, unique, mine, subscripts, size)
        return gi
    return rule


def _onto_diagonals(gi, unique: str, mine: str, subscripts: str, size: dict):
    """Place ``gi`` (labels ``unique``) on the diagonals of a repeated-label term ``mine``:
    each repeat of a label gets a fresh label tied to the first by an identity matrix."""
    fresh = (c for c in LETTERS if c not in set(subscripts))
    seen, renamed, ties = set(), "", []
    for c in mine:
        if c in seen:
            d = next(fresh)
            renamed += d
            ties.append(c + d)
        else:
            seen.add(c)
            renamed += c
    eyes = [np.eye(size[t[0]]) for t in ties]
    return p.einsum_args(",".join([unique] + ties) + "->" + renamed, gi, *eyes)


def _einsum_jvp(i: int):
    def rule(t, ans, subscripts, *operands):
        terms, out = split(subscripts)
        used = set(subscripts)
        z = next(c for c in LETTERS if c not in used)
        terms = list(terms)
        terms[i - 1] = z + terms[i - 1]
        ops = list(operands)
        ops[i - 1] = t
        return p.einsum_args(",".join(terms) + "->" + z + out, *ops)
    return rule


class _OperandRules(dict):
    """Rules for any operand position (operands start at argument 1)."""

    def __init__(self, make):
        super().__init__()
        self.make = make

    def __missing__(self, i):
        if not isinstance(i, int) or i < 1:
            raise KeyError(i)
        rule = self.make(i)
        self[i] = rule
        return rule

    def __contains__(self, i):
        return isinstance(i, int) and i >= 1

    def get(self, i, default=None):
        return self[i] if i in self else default


p.einsum_args.vjps = _OperandRules(_einsum_vjp)
p.einsum_args.jvps = _OperandRules(_einsum_jvp)
