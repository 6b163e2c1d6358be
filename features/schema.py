"""The v1 shipment: what licensing systems send to ``/v1/score`` and what ``rescore`` reads.

These pydantic models are the single validation point for shipments, whether they come as JSON over
HTTP, as JSON Lines or as Parquet rows (see :mod:`features.columns`). Field names are fixed by the
v1 contract.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator

from features import reference

__all__ = [
    "BusinessType",
    "Incoterm",
    "Intermediary",
    "IntermediaryRole",
    "Item",
    "Party",
    "Payment",
    "PaymentMethod",
    "Shipment",
]


def _known_country(code: str) -> str:
    if code not in reference.countries():
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code")
    return code


def _known_currency(code: str) -> str:
    if code not in reference.fx_rates():
        known = ", ".join(sorted(reference.fx_rates()))
        raise ValueError(f"no reference exchange rate for currency {code!r}; known: {known}")
    return code


def _known_flag(code: str) -> str:
    if code not in reference.red_flags():
        raise ValueError(f"{code!r} is not a red-flag code of the catalogue (e.g. 'BIS-07')")
    return code


CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$"), AfterValidator(_known_country)]
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$"), AfterValidator(_known_currency)]
FlagCode = Annotated[str, AfterValidator(_known_flag)]
ShortText = Annotated[str, StringConstraints(max_length=500)]


class BusinessType(StrEnum):
    """What a party does, as declared."""

    manufacturer = "manufacturer"
    distributor = "distributor"
    trading_company = "trading_company"
    freight_forwarder = "freight_forwarder"
    logistics = "logistics"
    bank = "bank"
    research_institute = "research_institute"
    university = "university"
    government = "government"
    military = "military"
    individual = "individual"
    other = "other"


class IntermediaryRole(StrEnum):
    """The part an intermediary plays in the transaction."""

    freight_forwarder = "freight_forwarder"
    intermediate_consignee = "intermediate_consignee"
    broker = "broker"
    agent = "agent"
    bank = "bank"
    other = "other"


class PaymentMethod(StrEnum):
    """How the goods are paid for."""

    wire = "wire"
    letter_of_credit = "letter_of_credit"
    cash = "cash"
    cryptocurrency = "cryptocurrency"
    other = "other"


class Incoterm(StrEnum):
    """Incoterms 2020."""

    EXW = "EXW"
    FCA = "FCA"
    CPT = "CPT"
    CIP = "CIP"
    DAP = "DAP"
    DPU = "DPU"
    DDP = "DDP"
    FAS = "FAS"
    FOB = "FOB"
    CFR = "CFR"
    CIF = "CIF"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Party(_Strict):
    """A party to the shipment: exporter, consignee, end user or intermediary."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    country: CountryCode
    address: ShortText | None = None
    registration_id: Annotated[str, StringConstraints(max_length=100)] | None = None
    phone: Annotated[str, StringConstraints(max_length=50)] | None = None
    email: Annotated[str, StringConstraints(max_length=254)] | None = None
    website: Annotated[str, StringConstraints(max_length=300)] | None = None
    incorporated_on: date | None = None
    business_type: BusinessType | None = None


class Intermediary(Party):
    """A party between exporter and consignee, with its role."""

    role: IntermediaryRole


class Item(_Strict):
    """One line of the shipment."""

    hs_code: Annotated[str, StringConstraints(pattern=r"^\d{6,10}$")]
    description: Annotated[str, StringConstraints(max_length=500)]
    quantity: float = Field(gt=0)
    unit: Annotated[str, StringConstraints(min_length=1, max_length=20)]
    value: float = Field(ge=0, description="total line value in `currency`")
    currency: CurrencyCode = "USD"
    control_code: Annotated[str, StringConstraints(max_length=20)] | None = None

    @property
    def hs6(self) -> str:
        """The first six digits: the internationally harmonised part of the code."""
        return self.hs_code[:6]


class Payment(_Strict):
    """How and by whom the shipment is paid."""

    method: PaymentMethod
    payer_name: Annotated[str, StringConstraints(max_length=300)] | None = None
    payer_country: CountryCode | None = None


class Shipment(_Strict):
    """A v1 shipment: the request body of ``POST /v1/score``."""

    shipment_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,64}$")]
    declared_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    exporter: Party
    consignee: Party
    end_user: Party | None = None
    intermediaries: list[Intermediary] = Field(default_factory=list, max_length=20)
    items: list[Item] = Field(min_length=1, max_length=100)
    destination_country: CountryCode
    route: list[CountryCode] = Field(default_factory=list, max_length=20)
    payment: Payment | None = None
    incoterm: Incoterm | None = None
    declared_end_use: Annotated[str, StringConstraints(max_length=2000)] | None = None
    end_use_certificate: bool = False
    observed_flags: list[FlagCode] = Field(default_factory=list, max_length=50)

    @field_validator("declared_at")
    @classmethod
    def _aware_utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("declared_at needs a time zone (RFC 3339, e.g. 2026-11-20T10:00:00Z)")
        return value.astimezone(UTC)
