"""Password hashing with argon2id (memory-hard, the OWASP first choice)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from crm.errors import DomainError

MIN_LENGTH = 8


class Passwords:
    def __init__(self, time_cost: int, memory_kib: int) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
        self._dummy_hash = self._hasher.hash("dummy-password")

    def hash(self, password: str) -> str:
        if len(password) < MIN_LENGTH:
            raise DomainError("weak_password", f"a password needs at least {MIN_LENGTH} characters")
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def dummy_verify(self) -> None:
        """Spend the same time for an unknown username, so timing does not reveal which exist."""
        self.verify(self._dummy_hash, "not-the-password")
