"""Accounts: who may register, sign-in and password-guess limits, session length."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator

from meatlizard.core.settings.rates import Rate, check_rate


class AccountSettings(BaseModel):
    login_rate_limit: str = "5/minute"  # failed logins per name and address
    login_address_rate_limit: str = "20/minute"  # failed logins per address, any name
    password_guess_rate_limit: str = "10/minute"  # per address and paste, file or link
    # Who may create an account: anyone, holders of an admin's invite code, or nobody
    # (`meatlizard create-admin` still works); new accounts per client address.
    registration: Literal["open", "invite-only", "closed"] = "open"
    registration_rate_limit: str = "20/hour"
    session_days: int = Field(default=14, ge=1, le=365)

    _check_account_rates = field_validator(
        "login_rate_limit",
        "registration_rate_limit",
        "login_address_rate_limit",
        "password_guess_rate_limit",
    )(check_rate)

    @property
    def login_rate(self) -> Rate:
        return Rate.parse(self.login_rate_limit)
