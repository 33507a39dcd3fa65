import pytest

from verification.checks import CheckResult, decide
from verification.faces import match_verdict


def test_any_failed_check_rejects_with_its_reason():
    checks = [CheckResult("a", "pass"), CheckResult("b", "review", "face_uncertain"),
              CheckResult("c", "fail", "document_number_invalid")]
    assert decide(checks) == ("rejected", ["document_number_invalid"])


def test_an_uncertain_check_without_failures_goes_to_review():
    assert decide([CheckResult("a", "pass"), CheckResult("b", "review", "face_uncertain")]) == (
        "in_review", ["face_uncertain"])


def test_a_minor_is_approved_with_the_minor_reason():
    assert decide([CheckResult("a", "pass"), CheckResult("age", "info", "minor")]) == ("approved", ["minor"])


@pytest.mark.parametrize("dist, verdict", [(0.30, "pass"), (0.45, "pass"), (0.50, "review"),
                                           (0.60, "fail"), (0.90, "fail")])
def test_face_distance_is_decided_by_two_thresholds_with_a_review_band(dist, verdict):
    assert match_verdict(dist, 0.45, 0.60) == verdict


def test_thresholds_in_the_wrong_order_are_refused():
    with pytest.raises(ValueError):
        match_verdict(0.5, 0.6, 0.4)
