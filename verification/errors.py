"""Domain errors: named after the condition, carrying data, never an HTTP status."""

from __future__ import annotations

from datetime import datetime


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""

    def __init__(self, message: str = "", **data: object) -> None:
        super().__init__(message or self.__class__.__doc__ or self.__class__.__name__)
        self.message = message or (self.__class__.__doc__ or "").strip()
        self.data = data


class InvalidInput(DomainError):
    """The request is missing a field or has one of the wrong form."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.field = field


class InvalidImage(DomainError):
    """The upload is not an image we can safely decode."""

    def __init__(self, message: str, reason: str = "invalid_image") -> None:
        super().__init__(message, reason=reason)
        self.reason = reason


class ImageTooLarge(InvalidImage):
    """The image is larger than the gateway accepts."""

    def __init__(self, message: str) -> None:
        super().__init__(message, reason="image_too_large")


class CaseNotFound(DomainError):
    """No such verification case."""


class CaseNotOpen(DomainError):
    """The case no longer accepts this step."""

    def __init__(self, state: str, message: str = "") -> None:
        super().__init__(message or f"the case is {state}", state=state)
        self.state = state


class CaseIncomplete(DomainError):
    """The case lacks an upload needed to run the checks."""

    def __init__(self, missing: str) -> None:
        super().__init__(f"the case has no {missing} yet", missing=missing)


class CaseExpired(DomainError):
    """The case's collection window has passed."""


class NotVerified(DomainError):
    """The subject has no live approval."""


class SubjectNotFound(DomainError):
    """No such subject."""


class Forbidden(DomainError):
    """The caller may not do this."""


class ConflictingState(DomainError):
    """The object changed under the caller."""


class TokenInvalid(DomainError):
    """The token is not one this gateway issued, or no longer valid."""

    def __init__(self, message: str = "the token is not valid", reason: str = "token_invalid") -> None:
        super().__init__(message, reason=reason)
        self.reason = reason


class RetryLater(DomainError):
    """Try again after the given time."""

    def __init__(self, message: str, retry_at: datetime | None = None) -> None:
        super().__init__(message, retry_at=retry_at.isoformat() if retry_at else None)
        self.retry_at = retry_at


# --- tips (issue 6) -------------------------------------------------------------------------

class IdempotencyConflict(DomainError):
    """The idempotency key was already used for a different tip."""


class StepUpNotFound(DomainError):
    """No such step-up for this client."""


class StepUpEnded(DomainError):
    """The step-up can no longer be confirmed (too many wrong codes, or expired)."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message, reason=reason)
        self.reason = reason


class SmsUndeliverable(DomainError):
    """The SMS provider refused the phone number for good; the tip stays pending."""

    def __init__(self, message: str, provider_code: str) -> None:
        super().__init__(message, provider_code=provider_code)


class SmsUnavailable(RetryLater):
    """The SMS provider could not be reached after a few tries; the tip stays pending."""


class SmsRateLimited(RetryLater):
    """Too many messages to this phone number lately (protection against SMS pumping)."""


# --- reviewer accounts and the review queue ---------------------------------------------

class LoginFailed(DomainError):
    """The login, password or one-time code is not right."""


class AccountLocked(DomainError):
    """Too many failed logins: the account is locked for a while."""

    def __init__(self, locked_until: datetime) -> None:
        super().__init__("too many failed attempts: the account is locked; try again later",
                         locked_until=locked_until.isoformat())
        self.retry_at = locked_until


class CaseClaimed(DomainError):
    """Another reviewer holds the case."""

    def __init__(self, holder: str, until: datetime) -> None:
        super().__init__(f"the case is claimed by {holder} until {until:%H:%M} UTC",
                         holder=holder, until=until.isoformat())


class LeaseNotHeld(DomainError):
    """The reviewer must claim the case before deciding it (or the claim has expired)."""


class RoomNotFound(DomainError):
    """No such live room."""


class RequestNotFound(DomainError):
    """No such request (category change, prior report, concern flag)."""
