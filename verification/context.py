"""What every use case is handed: the store, the settings, the cipher, the clock, the engines."""

from __future__ import annotations

from dataclasses import dataclass, field

from .clock import Clock, SystemClock
from .crypto import FieldCipher
from .pipeline import Policy, Verifier
from .settings import Settings
from .store import Database


@dataclass
class Services:
    """The dependencies of the use cases, built once by the app factory or the CLI."""

    settings: Settings
    db: Database
    verifier: Verifier
    clock: Clock = field(default_factory=SystemClock)
    cipher: FieldCipher = field(init=False)

    def __post_init__(self) -> None:
        self.cipher = FieldCipher(self.settings.secret_key)

    @property
    def policy(self) -> Policy:
        s = self.settings
        return Policy(face_accept=s.face_accept, face_reject=s.face_reject, liveness=s.liveness,
                      timezone=s.timezone)
