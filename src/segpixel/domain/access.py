"""Who may see and change what (SPEC §1.1): roles and tenant isolation as pure predicates."""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("admin", "member", "advertiser")


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller of the API or the console."""

    user_id: int
    username: str
    role: str
    member_id: int | None = None
    advertiser_id: int | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def sees_member(self, member_id: int) -> bool:
        return self.is_admin or self.member_id == member_id

    def manages_member(self, member_id: int) -> bool:
        """Change the member's own settings (name, redirect domains, dongle)."""
        return self.is_admin or (self.role == "member" and self.member_id == member_id)

    def sees_advertiser(self, member_id: int, advertiser_id: int) -> bool:
        if self.role == "advertiser":
            return self.member_id == member_id and self.advertiser_id == advertiser_id
        return self.sees_member(member_id)

    def manages_advertiser(self, member_id: int) -> bool:
        return self.manages_member(member_id)

    def sees_segment(self, member_id: int, advertiser_id: int | None) -> bool:
        """An advertiser user sees its own segments and its member's member-level ones."""
        if self.role == "advertiser":
            return self.member_id == member_id and advertiser_id in (None, self.advertiser_id)
        return self.sees_member(member_id)

    def changes_segment(self, member_id: int, advertiser_id: int | None) -> bool:
        """An advertiser user changes only its own advertiser-level segments."""
        if self.role == "advertiser":
            return (
                self.member_id == member_id
                and self.advertiser_id is not None
                and advertiser_id == self.advertiser_id
            )
        return self.sees_member(member_id)
