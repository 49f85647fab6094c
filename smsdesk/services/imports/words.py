"""Column names people and exporters use, in several languages (Google and Outlook included).

Shared by header detection (a cell named like a column is a label) and the mapping guesses.
"""

from __future__ import annotations

import re

# Best first. Outlook: "Mobile Phone", "Primary Phone", "Business Phone", "Home Phone".
# Google: "Phone 1 - Value" beside "Phone 1 - Type" (the type decides which is mobile).
PHONE_WORDS = (
    "mobile",
    "mobile phone",
    "mobile number",
    "cell",
    "cell phone",
    "cellphone",
    "mobil",
    "handy",
    "mobilnummer",
    "portable",
    "móvil",
    "movil",
    "celular",
    "gsm",
    "msisdn",
    "sms",
    "phone",
    "phone number",
    "telephone",
    "tel",
    "telefon",
    "telefono",
    "téléphone",
    "number",
    "primary phone",
    "business phone",
    "home phone",
    "other phone",
    "contact number",
)
NAME_WORDS = (
    "name",
    "full name",
    "display name",
    "contact name",
    "contact",
    "customer",
    "client",
    "first name",
    "given name",
    "firstname",
    "forename",
    "vorname",
    "prénom",
    "prenom",
    "nombre",
    "first",
)
FIRST_NAME_WORDS = ("first name", "given name", "firstname", "forename", "vorname", "prénom", "prenom", "first")
LAST_NAME_WORDS = (
    "last name",
    "family name",
    "surname",
    "lastname",
    "nachname",
    "nom de famille",
    "apellido",
    "apellidos",
    "last",
)
OTHER_WORDS = (
    "e-mail",
    "email",
    "e-mail address",
    "email address",
    "company",
    "organization",
    "address",
    "city",
    "notes",
    "note",
    "group",
    "groups",
    "group membership",
    "id",
    "birthday",
    "date",
    "amount",
    "title",
)
AMBIGUOUS_PHONE_WORDS = ("number", "sms", "contact number")
GOOGLE_PHONE = re.compile(r"^phone (\d+) - value$")
_GOOGLE_ANY = re.compile(r"^(phone|e-mail|address|organization|website|relation|event) \d+ - \w+")
_LABELS = frozenset(PHONE_WORDS + NAME_WORDS + LAST_NAME_WORDS + OTHER_WORDS)


def norm(header: str) -> str:
    """``" First_Name "`` -> ``"first name"``."""
    return re.sub(r"\s+", " ", header.strip().lower().replace("_", " "))


def is_label(cell: str) -> bool:
    """A cell named like a column an export has (a phone, name, e-mail... column)."""
    n = norm(cell)
    return n in _LABELS or _GOOGLE_ANY.match(n) is not None
