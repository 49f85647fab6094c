"""vCard files as phones, Google Contacts, Outlook and macOS Contacts write them (2.1, 3.0, 4.0),
written by hand to the standards (RFC 2425/2426, RFC 6350, the vCard 2.1 specification)."""

from __future__ import annotations

from smsdesk.services.imports.vcard import looks_like_vcard, read_vcards

# A phone's export (vCard 2.1): quoted-printable names with soft line breaks, bare type
# parameters, a photo in base64 that must be ignored.
PHONE_21 = (
    "BEGIN:VCARD\r\n"
    "VERSION:2.1\r\n"
    "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=C3=9Cnal;=C3=87a=\r\n"
    "=C4=9Flar;;;\r\n"
    "FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=C3=87a=C4=9Flar =C3=9C=\r\n"
    "nal\r\n"
    "TEL;CELL;PREF:+90 532 000 0000\r\n"
    "TEL;HOME:0212 000 0000\r\n"
    "PHOTO;ENCODING=BASE64;TYPE=JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAMCAgICAgMCAgIDAwMDBAYE\r\n"
    " BAQEBAgGBgUGCQgKCgkICQkKDA8MCgsOCwkJDRENDg8QEBEQCgwSExIQEw8QEBD/\r\n"
    "\r\n"
    "END:VCARD\r\n"
    "BEGIN:VCARD\r\n"
    "VERSION:2.1\r\n"
    "N;CHARSET=ISO-8859-7;ENCODING=QUOTED-PRINTABLE:=D0=E1=F0=E1=E4=FC=F0=EF=F5=EB=EF=F2;=C5=EB=DD=\r\n"
    "=ED=E7;;;\r\n"
    "TEL;CELL:6912345678\r\n"
    "END:VCARD\r\n"
)

# Google Contacts / macOS (3.0): TYPE lists, folded lines, several numbers, categories.
GOOGLE_30 = """BEGIN:VCARD
VERSION:3.0
N:Patel;Anita;;Mrs;
FN:Mrs Anita Patel
TEL;TYPE=CELL,VOICE:07911 123456
TEL;TYPE=WORK:
 +44 20 7946 0000
EMAIL;TYPE=INTERNET:anita@example.com
ORG:Patel Hair & Beauty;
NOTE:Prefers afternoon appoint
 ments
CATEGORIES:VIP,Saturday team
BDAY:1980-04-01
END:VCARD
BEGIN:VCARD
VERSION:3.0
FN:Shop Phone
TEL;TYPE=WORK,PREF:020 7946 0001
END:VCARD
"""

# vCard 4.0: a number as a tel: URI, PREF=1, a quoted TYPE list.
V40 = """BEGIN:VCARD
VERSION:4.0
FN:Jo Bloggs
N:Bloggs;Jo;;;
TEL;VALUE=uri;TYPE="cell,voice";PREF=1:tel:+44-7911-123457
TEL;VALUE=uri;TYPE=home:tel:+44-20-7946-0002;ext=5
END:VCARD
"""


def test_a_phones_21_export_with_quoted_printable_names_and_soft_line_breaks() -> None:
    result = read_vcards(PHONE_21.encode("ascii"))
    assert [c.name for c in result.cards] == ["Çağlar Ünal", "Ελένη Παπαδόπουλος"]
    caglar, eleni = result.cards
    assert caglar.first_name == "Çağlar" and caglar.family_name == "Ünal"
    assert [(p.raw, p.mobile, p.preferred) for p in caglar.phones] == [
        ("+90 532 000 0000", True, True),
        ("0212 000 0000", False, False),
    ]
    assert eleni.first_name == "Ελένη"  # quoted-printable in its own CHARSET (Greek ISO-8859-7)
    assert result.skipped == [] and result.total == 2


def test_google_30_types_folded_lines_categories_and_a_card_without_n() -> None:
    result = read_vcards(GOOGLE_30.encode("utf-8"))
    anita, shop = result.cards
    assert anita.name == "Mrs Anita Patel" and anita.first_name == "Anita"
    assert [(p.raw, p.types, p.mobile) for p in anita.phones] == [
        ("07911 123456", ("cell", "voice"), True),
        ("+44 20 7946 0000", ("work",), False),
    ]
    assert anita.emails == ("anita@example.com",)
    assert anita.organisation == "Patel Hair & Beauty"
    assert anita.note == "Prefers afternoon appointments"
    assert anita.categories == ("VIP", "Saturday team")
    assert anita.birthday == "1980-04-01"
    # no N: {{first_name}} is the first word of the name
    assert shop.first_name == "Shop" and shop.phones[0].preferred and not shop.phones[0].mobile


def test_v40_tel_uris_with_pref_and_extension() -> None:
    [jo] = read_vcards(V40.encode("utf-8")).cards
    assert [(p.raw, p.mobile, p.preferred) for p in jo.phones] == [
        ("+44-7911-123457", True, True),
        ("+44-20-7946-0002", False, False),
    ]


def test_every_card_is_accounted_for_and_a_broken_one_does_not_stop_the_others() -> None:
    broken = (
        GOOGLE_30
        + "BEGIN:VCARD\nVERSION:3.0\nFN:Broken\nTEL;TYPE=CELL 07911 000000\nEND:VCARD\n"  # no colon
        + "BEGIN:VCARD\nVERSION:3.0\nNOTE:nothing else\nEND:VCARD\n"  # no name, no number
        + V40
        + "BEGIN:VCARD\nVERSION:3.0\nFN:Cut short\nTEL:07911 111111\n"  # file ends mid-card
    )
    seen: list[int] = []
    result = read_vcards(broken.encode("utf-8"), progress=seen.append)
    assert [c.name for c in result.cards] == ["Mrs Anita Patel", "Shop Phone", "Jo Bloggs"]
    reasons = {s.position: s.reason for s in result.skipped}
    assert set(reasons) == {3, 4, 6}
    assert "could not be read" in reasons[3]
    assert "no name and no phone number" in reasons[4]
    assert "END:VCARD" in reasons[6]
    assert result.total == 6 and seen[-1] == 6
    assert [c.position for c in result.cards] == [1, 2, 5]


def test_a_cp1252_file_and_sniffing() -> None:
    data = "BEGIN:VCARD\r\nVERSION:2.1\r\nFN:Señora Núñez\r\nTEL;CELL:07911 123456\r\nEND:VCARD\r\n"
    [card] = read_vcards(data.encode("cp1252")).cards
    assert card.name == "Señora Núñez"
    assert looks_like_vcard(b"\xef\xbb\xbfBEGIN:VCARD\r\n") and looks_like_vcard(b"\r\n begin:vcard\n")
    assert not looks_like_vcard(b"name,phone\nAnn,07911 123456\n")
