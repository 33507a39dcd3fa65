"""Check results and how they add up to a decision."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

PASS, FAIL, REVIEW, SKIPPED, INFO = "pass", "fail", "review", "skipped", "info"

APPROVED, REJECTED, IN_REVIEW = "approved", "rejected", "in_review"


@dataclass
class CheckResult:
    """One named automatic check: its verdict, score, threshold and stable reason code.

    ``details`` is internal context (raw OCR text, per-frame numbers) shown to
    reviewers, never to the platform's client.
    """

    name: str
    verdict: str
    reason: str | None = None
    score: float | None = None
    threshold: float | None = None
    details: dict[str, Any] = field(default_factory=dict)
    hint: str | None = None

    def public(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "verdict": self.verdict, "reason": self.reason}
        if self.score is not None:
            out["score"] = round(self.score, 4)
        if self.threshold is not None:
            out["threshold"] = self.threshold
        if self.hint:
            out["hint"] = self.hint
        return out


def decide(checks: Iterable[CheckResult]) -> tuple[str, list[str]]:
    """Any failure rejects; otherwise anything uncertain goes to review; else approved."""
    checks = list(checks)
    failed = [c.reason or c.name for c in checks if c.verdict == FAIL]
    if failed:
        return REJECTED, _unique(failed)
    review = [c.reason or c.name for c in checks if c.verdict == REVIEW]
    if review:
        return IN_REVIEW, _unique(review)
    return APPROVED, _unique(c.reason for c in checks if c.verdict == INFO and c.reason)


def _unique(items: Iterable[str | None]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        if item:
            seen.setdefault(item, None)
    return list(seen)
