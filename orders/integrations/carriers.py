"""Carrier names as sources write them (SCAC codes, service names, typos) → the names flxhub shows."""

import re

CARRIERS: dict[str, tuple[str, ...]] = {
    "UPS": ("ups", "upsn", "upsg", "upss", "upsm", "ups ground", "united parcel service", "ups mail innovations"),
    "FedEx": ("fedex", "fdx", "fdxg", "fdxe", "fxfe", "fedex ground", "fedex express", "federal express", "fdeg"),
    "USPS": ("usps", "us postal service", "united states postal service", "usps priority", "us mail", "post office"),
    "DHL": ("dhl", "dhlc", "dhl express", "dhl ecommerce", "dhlg"),
    "OnTrac": ("ontrac", "emsy"),
    "LaserShip": ("lasership", "lsrp"),
    "Canada Post": ("canada post", "cpc", "postes canada"),
    "Purolator": ("purolator", "prlc"),
    "Amazon Logistics": ("amazon", "amazon logistics", "amzl"),
}
_ALIASES = {alias: name for name, aliases in CARRIERS.items() for alias in (*aliases, name.lower())}
_SPACES = re.compile(r"[\s_\-.]+")


def normalize_carrier(raw: str) -> str:
    """Return the canonical carrier name for ``raw`` (``"fdxg"`` → ``"FedEx"``); unknown names come back trimmed.

    A service name that starts with a known carrier (``"UPS-GND"``, ``"FedEx 2Day"``) maps to that carrier.
    """
    text = (raw or "").strip()
    if not text:
        return ""
    key = _SPACES.sub(" ", text.lower()).strip()
    if key in _ALIASES:
        return _ALIASES[key]
    first = key.split(" ", 1)[0]
    if first in _ALIASES:
        return _ALIASES[first]
    return text[:40]
