"""``smsdesk contacts|groups|templates`` as a person runs them: real subprocesses, JSON, exit codes."""

from __future__ import annotations

from pathlib import Path

from tests.integration.test_cli import as_json, smsdesk

ANN = "+447911123456"
BOB = "+447911123457"


def _ok(home: Path, *args: str) -> str:
    proc = smsdesk(home, *args)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_contacts_add_list_show_edit_remove(tmp_path: Path) -> None:
    home = tmp_path / "h"
    added = as_json(
        smsdesk(
            home,
            "contacts",
            "add",
            "--name",
            "Ann Lee",
            "--number",
            ANN,
            "--tag",
            "VIP",
            "--field",
            "city=Leeds",
            "--json",
        )
    )
    assert added["merged"] is False and added["contact"]["fields"] == {"city": "Leeds"}
    merged = as_json(smsdesk(home, "contacts", "add", "--name", "Ann", "--number", ANN, "--json"))
    assert merged["merged"] is True and merged["contact"]["id"] == added["contact"]["id"]
    _ok(home, "contacts", "add", "--name", "Bob Stone", "--number", BOB)
    found = as_json(smsdesk(home, "contacts", "list", "--search", "leeds", "--json"))
    assert found["total"] == 1 and [c["name"] for c in found["contacts"]] == ["Ann Lee"]
    shown = as_json(smsdesk(home, "contacts", "show", "Ann Lee", "--json"))
    assert shown["number"] == ANN and shown["tags"] == ["VIP"]
    edited = as_json(smsdesk(home, "contacts", "edit", ANN, "--notes", "prefers mornings", "--json"))
    assert edited["notes"] == "prefers mornings" and edited["name"] == "Ann Lee"
    _ok(home, "contacts", "remove", "Bob Stone")
    assert [c["name"] for c in as_json(smsdesk(home, "contacts", "list", "--json"))["contacts"]] == ["Ann Lee"]


def test_contacts_bad_input_is_exit_2_with_words(tmp_path: Path) -> None:
    home = tmp_path / "h"
    nobody = smsdesk(home, "contacts", "show", "Nobody Here")
    assert nobody.returncode == 2 and "No contact is called 'Nobody Here'" in nobody.stderr and not nobody.stdout
    no_number = smsdesk(home, "contacts", "add", "--name", "Ann")
    assert no_number.returncode == 2 and "needs a phone number" in no_number.stderr
    _ok(home, "contacts", "add", "--name", "Ann Lee", "--number", ANN)
    wrong = smsdesk(home, "contacts", "erase", "Ann Lee", "--confirm", "Bob")
    assert wrong.returncode == 2 and "type their name exactly" in wrong.stderr
    _ok(home, "contacts", "erase", "Ann Lee", "--confirm", "ann lee")
    assert as_json(smsdesk(home, "contacts", "list", "--json"))["total"] == 0


def test_groups_and_members(tmp_path: Path) -> None:
    home = tmp_path / "h"
    _ok(home, "contacts", "add", "--name", "Ann Lee", "--number", ANN, "--tag", "VIP")
    _ok(home, "contacts", "add", "--name", "Bob Stone", "--number", BOB)
    _ok(home, "groups", "add", "Saturday team")
    _ok(home, "groups", "add", "VIPs", "--tag", "vip")
    taken = smsdesk(home, "groups", "add", "saturday TEAM")
    assert taken.returncode == 2 and "already a group" in taken.stderr
    members = as_json(smsdesk(home, "groups", "members", "Saturday team", "--add", "Ann Lee", BOB, "--json"))
    assert sorted(c["name"] for c in members["contacts"]) == ["Ann Lee", "Bob Stone"]
    members = as_json(smsdesk(home, "groups", "members", "Saturday team", "--remove", "Bob Stone", "--json"))
    assert [c["name"] for c in members["contacts"]] == ["Ann Lee"]
    # --add repeated adds each (it used to keep only the last one)
    members = as_json(smsdesk(home, "groups", "members", "Saturday team", "--add", BOB, "--add", "Ann Lee", "--json"))
    assert sorted(c["name"] for c in members["contacts"]) == ["Ann Lee", "Bob Stone"]
    groups = {g["name"]: g for g in as_json(smsdesk(home, "groups", "list", "--json"))}
    assert groups["Saturday team"]["size"] == 2 and groups["VIPs"]["smart"] and groups["VIPs"]["size"] == 1
    assert as_json(smsdesk(home, "groups", "show", "vips", "--json"))["rule"] == "tag is vip"
    _ok(home, "groups", "remove", "Saturday team")
    missing = smsdesk(home, "groups", "show", "Saturday team")
    assert missing.returncode == 2 and "no group called" in missing.stderr
    assert as_json(smsdesk(home, "contacts", "list", "--json"))["total"] == 2


def test_templates_crud(tmp_path: Path) -> None:
    home = tmp_path / "h"
    saved = as_json(
        smsdesk(
            home, "templates", "add", "Reminder", "--category", "Visits", "--text", "Hi {{first_name|there}}", "--json"
        )
    )
    assert saved["name"] == "Reminder" and saved["fields"] == ["first_name"]
    _ok(home, "templates", "edit", "reminder", "--text", "See you tomorrow, {{name}}")
    assert as_json(smsdesk(home, "templates", "show", "Reminder", "--json"))["body"] == "See you tomorrow, {{name}}"
    assert [t["name"] for t in as_json(smsdesk(home, "templates", "list", "--json"))] == ["Reminder"]
    _ok(home, "templates", "remove", "Reminder")
    gone = smsdesk(home, "templates", "show", "Reminder")
    assert gone.returncode == 2 and "no saved template called 'Reminder'" in gone.stderr


VCF = (
    "BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Mart=C3=\r\n=ADn;Chlo=C3=A9;;;\r\n"
    "FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Chlo=C3=A9 Mart=C3=ADn\r\nTEL;CELL;PREF:+33612345678\r\nEND:VCARD\r\n"
    "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann Lee\r\nN:Lee;Ann;;;\r\nTEL;TYPE=CELL:+447911123456\r\n"
    "TEL;TYPE=HOME:+441132345678\r\nEND:VCARD\r\n"
    "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:No Phone\r\nEND:VCARD\r\n"
)


def test_contacts_import_vcf_into_a_group_and_export(tmp_path: Path) -> None:
    home = tmp_path / "h"
    cards = tmp_path / "phone.vcf"
    cards.write_bytes(VCF.encode("utf-8"))
    done = as_json(smsdesk(home, "contacts", "import", str(cards), "--group", "Clients", "--json"))
    assert (done["added"], done["merged"], len(done["skipped"])) == (2, 0, 1)
    members = as_json(smsdesk(home, "groups", "members", "Clients", "--json"))
    assert sorted(c["name"] for c in members["contacts"]) == ["Ann Lee", "Chloé Martín"]
    ann = as_json(smsdesk(home, "contacts", "show", "+441132345678", "--json"))
    assert ann["name"] == "Ann Lee" and len(ann["numbers"]) == 2
    out = tmp_path / "book.csv"
    wrote = as_json(smsdesk(home, "contacts", "export", str(out), "--group", "Clients", "--json"))
    assert wrote == {"file": str(out), "format": "csv", "contacts": 2}
    assert "Chloé Martín" in out.read_text(encoding="utf-8-sig")
    bad = smsdesk(home, "contacts", "export", str(tmp_path / "book.pdf"))
    assert bad.returncode == 2 and ".csv, .xlsx or .vcf" in bad.stderr


def test_send_to_a_group_with_a_saved_template(tmp_path: Path) -> None:
    home = tmp_path / "h"
    _ok(home, "contacts", "add", "--name", "Ann Lee", "--number", ANN)
    _ok(home, "contacts", "add", "--name", "Bob Stone", "--number", BOB)
    _ok(home, "contacts", "add", "--name", "Cat Jones", "--number", "+447911123458")
    _ok(home, "groups", "add", "Clients")
    _ok(home, "groups", "members", "Clients", "--add", ANN, BOB, "+447911123458")
    _ok(home, "optouts", "add", "+447911123458")
    _ok(home, "templates", "add", "Reminder", "--text", "Hi {{first_name|there}}, see you tomorrow")
    out = smsdesk(home, "send", "--account", "Sandbox", "--group", "Clients", "--saved-template", "Reminder", "--json")
    assert out.returncode == 0, out.stderr
    summary = as_json(out)
    assert summary["state"] == "done" and summary["sent"] + summary["delivered"] == 2
    assert "Left out Cat Jones: opted out" in out.stderr
    texts = sorted(m["text"] for m in as_json(smsdesk(home, "messages", "--json")))
    assert texts == ["Hi Ann, see you tomorrow", "Hi Bob, see you tomorrow"]
    nobody = smsdesk(home, "send", "--account", "Sandbox", "--group", "Nobody", "--text", "x")
    assert nobody.returncode == 2 and "no group called 'Nobody'" in nobody.stderr
    both = smsdesk(home, "send", "--account", "Sandbox", "--to", ANN, "--group", "Clients", "--text", "x")
    assert both.returncode == 2 and "--to NUMBER" in both.stderr


def test_a_repeating_send_to_a_group_is_scheduled_for_its_members_then(tmp_path: Path) -> None:
    home = tmp_path / "h"
    _ok(home, "contacts", "add", "--name", "Ann Lee", "--number", ANN)
    _ok(home, "groups", "add", "Clients")
    _ok(home, "groups", "members", "Clients", "--add", ANN)
    out = smsdesk(
        home, "send", "--account", "Sandbox", "--group", "Clients", "--text", "Hi {{first_name|there}}",
        "--at", "2099-01-05T09:00", "--repeat", "weekly:mon", "--json",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    item = as_json(out)
    assert item["recipients"] == 1 and "Scheduled" in out.stderr
    # The group is in use: deleting it is refused with the send named.
    refused = smsdesk(home, "groups", "remove", "Clients")
    assert refused.returncode == 2 and "used by 1 scheduled send" in refused.stderr
