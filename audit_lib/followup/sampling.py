"""Audit sampling that concludes, as jfa (the R package) and ACL's SIZE / EVALUATE do it.

plan: the smallest sample size n whose upper bound on the misstatement, at the confidence, stays below
materiality when the expected errors are found (``expected`` as a fraction of n, or a number of errors when 1 or
more). Poisson: the gamma bound with x = expected·n errors (not rounded); binomial: x = ⌈expected·n⌉ and the
binomial tail; hypergeometric: the same with ⌈materiality·N⌉ misstated units in a population of N.

evaluate: each sampled item's taint (book − audited) / book; the most likely misstatement (the mean taint) and
its upper bound: Stringer (jfa's form: the binomial upper limits, each step weighted by the taints in decreasing
order), Poisson (the gamma bound on the taints' sum) or binomial (the beta bound on it). A population is accepted
when the upper bound is below materiality. All figures as fractions of the book value, and in 元.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import AuditError
from ..i18n import tr

LIKELIHOODS = ("poisson", "binomial", "hypergeometric")
METHODS = ("stringer", "poisson", "binomial")
MAX_N = 100_000


@dataclass(frozen=True)
class Plan:
    n: int
    errors: float                  # the errors the sample may hold
    likelihood: str
    materiality: float
    confidence: float
    interval_fen: int | None = None    # for monetary-unit selection: book value / n


def _check(materiality: float, confidence: float, expected: float) -> None:
    if not 0 < materiality < 1:
        raise AuditError(tr("--materiality 应为 0 到 1 之间的比例（例如 0.05）", "--materiality is a fraction between 0 "
                                                                   "and 1 (e.g. 0.05)"))
    if not 0 < confidence < 1:
        raise AuditError(tr("--confidence 应为 0 到 1 之间的比例（例如 0.95）", "--confidence is a fraction between 0 "
                                                                  "and 1 (e.g. 0.95)"))
    if expected < 0 or (expected < 1 and expected >= materiality):
        raise AuditError(tr("--expected 应小于 --materiality（预期错报比例），或为不小于 1 的错误个数",
                            "--expected must be below --materiality (a fraction), or a number of errors of 1 or more"))


def plan(materiality: float, confidence: float = 0.95, expected: float = 0.0, likelihood: str = "poisson",
         population: int | None = None, book_value_fen: int | None = None) -> Plan:
    from scipy import stats

    _check(materiality, confidence, expected)
    if likelihood not in LIKELIHOODS:
        raise AuditError(tr(f"--likelihood 应为 {'、'.join(LIKELIHOODS)} 之一", f"--likelihood is one of {', '.join(LIKELIHOODS)}"))
    if likelihood == "hypergeometric" and not population:
        raise AuditError(tr("hypergeometric 需要总体大小（--population-size，或一次运行）",
                            "hypergeometric needs the population size (--population-size, or a run)"))
    top = min(MAX_N, population) if likelihood == "hypergeometric" else MAX_N
    misstated = math.ceil(materiality * population) if population else None
    for n in range(1, top + 1):
        if expected >= 1:
            x = expected
        else:
            x = expected * n if likelihood == "poisson" else math.ceil(expected * n)
        if likelihood == "poisson":
            ok = stats.gamma.ppf(confidence, 1 + x, scale=1 / n) <= materiality
        elif x >= n:
            continue
        elif likelihood == "binomial":
            ok = stats.binom.cdf(x, n, materiality) < 1 - confidence
        else:
            ok = stats.hypergeom.cdf(x, population, misstated, n) < 1 - confidence
        if ok:
            return Plan(n, float(x), likelihood, materiality, confidence,
                        book_value_fen // n if book_value_fen else None)
    raise AuditError(tr(f"在 {top:,} 个样本以内达不到要求：请提高重要性水平或降低预期错报",
                        f"no sample of up to {top:,} items meets it: raise materiality or lower the expected errors"))


@dataclass(frozen=True)
class Evaluation:
    method: str
    n: int
    errors: int                    # items with a misstatement
    taint_sum: float
    mle: float                     # most likely misstatement, fraction of book value
    upper: float                   # its upper bound at the confidence
    materiality: float
    confidence: float
    book_value_fen: int | None

    @property
    def accepted(self) -> bool:
        return self.upper < self.materiality

    def fen(self, share: float) -> int | None:
        return None if self.book_value_fen is None else int(round(share * self.book_value_fen))


def taint(book_fen: int, audited_fen: int) -> float:
    """(book − audited) / book: 1 when nothing of it was due, 0 when all of it was; an understatement is
    negative."""
    if book_fen <= 0:
        raise AuditError(tr("账面金额应为正数", "a book value must be positive"))
    return (book_fen - audited_fen) / book_fen


def evaluate(taints: list[float], n: int, materiality: float, confidence: float = 0.95, method: str = "stringer",
             book_value_fen: int | None = None) -> Evaluation:
    """The sample's ``taints`` (one per misstated item; the rest of the n items are correct)."""
    from scipy import stats

    _check(materiality, confidence, 0.0)
    if method not in METHODS:
        raise AuditError(tr(f"--method 应为 {'、'.join(METHODS)} 之一", f"--method is one of {', '.join(METHODS)}"))
    if n < 1 or len(taints) > n:
        raise AuditError(tr("样本量应不小于错报项目数", "the sample size must be at least the number of misstated items"))
    over = sorted((t for t in taints if t > 0), reverse=True)       # overstatements count toward the bound
    k = sum(over)
    if method == "stringer":
        def p(i):
            return stats.beta.ppf(confidence, i + 1, n - i) if i < n else 1.0
        upper = p(0) + sum((p(i) - p(i - 1)) * t for i, t in enumerate(over, 1))
    elif method == "poisson":
        upper = stats.gamma.ppf(confidence, 1 + k, scale=1 / n)
    else:
        upper = stats.beta.ppf(confidence, 1 + k, n - k) if k < n else 1.0
    mle = sum(taints) / n
    return Evaluation(method, n, sum(1 for t in taints if t != 0), float(sum(taints)), float(mle), float(min(upper, 1.0)),
                      materiality, confidence, book_value_fen)
