"""The address book at scale: 100,000 contacts in 500 groups, 5 custom fields each.

``python bench/run.py contacts_scale [--contacts N] [--groups G] [--vcards V]``

Builds a fresh data folder, fills it through the storage surface the import uses, then
measures, with the real Qt widgets offscreen (figures in ms unless named ``_s``; medians of
several runs, ``*_max`` the slowest):

- ``open_page_ms``: building the Contacts page, showing it and painting it (target <= 300);
- ``search_key_ms``: search as you type, one key (query, model reset and a repaint) over a
  name, a number and a custom field value typed key by key (<= 30 per key);
- ``complete_key_ms``: the To box's suggestions for one key (<= 30);
- ``group_preview_s``: a 20,000-member group resolved to a personalised send, checked and
  previewed as the bulk wizard does (<= 2 s);
- ``vcard_import_s``: importing a 100,000-card ``.vcf`` into an empty address book (<= 30 s),
  and ``vobject_only_s``: the same cards through vobject alone in this process, the floor.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

FIRST = ["Priya", "Tom", "Ann", "Mohammed", "Olivia", "Jack", "Amelia", "Noah", "Isla", "Leo", "Zoë", "Siân"]
LAST = ["Patel", "Hughes", "Lee", "Khan", "Smith", "Jones", "Taylor", "Brown", "Wilson", "Evans", "Okafor"]
FIELDS = (("Appointment", "date"), ("Stylist", "text"), ("Visits", "number"), ("Postcode", "text"), ("Since", "date"))
TARGETS = {"open_page_ms": 300, "search_key_ms_max": 30, "complete_key_ms_max": 30, "group_preview_s": 2.0}


def _number(i: int) -> str:
    return f"+4479{11000000 + i:08d}"


def _fill(rt: Any, n: int, n_groups: int, rng: random.Random) -> int:
    """``n`` contacts, ``n_groups`` groups of 200, one group of 20,000; returns the big group's id."""
    from smsdesk.domain.contacts import ContactNumber, FieldDef, FieldKind
    from smsdesk.storage.records import AuditEntry, NewContact

    defs = [FieldDef(name, FieldKind(kind)) for name, kind in FIELDS]
    store, groups = rt.contacts.contacts, rt.groups

    async def go() -> int:
        for i in range(0, n, 5000):
            batch = []
            for j in range(i, min(i + 5000, n)):
                first, last = rng.choice(FIRST), rng.choice(LAST)
                fields = {
                    "Appointment": f"2027-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                    "Stylist": rng.choice(["Kim", "Sam", "Alex", "Jo"]),
                    "Visits": str(rng.randint(1, 60)),
                    "Postcode": f"SW{rng.randint(1, 20)} {rng.randint(1, 9)}AB",
                    "Since": f"20{rng.randint(10, 26)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
                }
                batch.append(
                    NewContact(
                        name=f"{first} {last}",
                        given_name=first,
                        family_name=last,
                        numbers=(ContactNumber(_number(j), "mobile", True),),
                        tags=(rng.choice(["VIP", "regular", "new"]),),
                        fields=fields,
                    )
                )
            await store.add_many(batch, None, defs if i == 0 else [], AuditEntry("bench.fill"))
        ids = [c.id for c in store.stream(None, _asof())]
        for g in range(n_groups):
            gid = await groups.create(f"List {g:03d}")
            await groups.add_members(gid, rng.sample(ids, 200))
        big = await groups.create("Everyone 20k")
        await groups.add_members(big, ids[:20_000])
        return int(big)

    return asyncio.run(go())


def _asof() -> Any:
    from smsdesk.services.contact_drafts import as_of

    return as_of()


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 2)


def _gui_figures(rt: Any) -> dict[str, Any]:
    from PySide6.QtWidgets import QApplication

    from smsdesk.app import ui_services
    from smsdesk.services import recipients
    from smsdesk.ui.aio import BusBridge
    from smsdesk.ui.context import UiContext
    from smsdesk.ui.views.contacts.view import ContactsView

    app = QApplication.instance() or QApplication([])
    ctx = UiContext(ui_services(rt), BusBridge(rt.bus))
    opens: list[float] = []
    page = None
    for _ in range(5):
        if page is not None:
            page.deleteLater()
            app.processEvents()
        t = time.perf_counter()
        page = ContactsView(ctx)
        page.resize(1280, 800)
        page.show()
        app.processEvents()
        page.grab()
        opens.append(_ms(t))
    assert page is not None
    keys: list[float] = []
    for word in ("patel", "0791100", "kim sw1"):
        for k in range(1, len(word) + 1):
            page.search.blockSignals(True)
            page.search.setText(word[:k])
            page.search.blockSignals(False)
            t = time.perf_counter()
            page.apply_filters()
            page.table.viewport().repaint()
            keys.append(_ms(t))
    completes: list[float] = []
    for word in ("pat", "olivi", "07911", "@list 0"):
        for k in range(1, len(word) + 1):
            t = time.perf_counter()
            recipients.suggest(word[:k], rt.contacts, rt.groups)
            completes.append(_ms(t))
    total = page.model.total
    page.close()
    ctx.bridge.close()
    return {
        "open_page_ms": statistics.median(opens),
        "open_page_ms_first": opens[0],
        "search_key_ms": statistics.median(keys),
        "search_key_ms_max": max(keys),
        "complete_key_ms": statistics.median(completes),
        "complete_key_ms_max": max(completes),
        "listed_total": total,
    }


def _group_preview(rt: Any, gid: int) -> dict[str, Any]:
    from smsdesk.services.bulk_send_flow import BulkSendFlow

    runs: list[float] = []
    accepted = 0
    for _ in range(3):
        t = time.perf_counter()
        resolved = rt.groups.resolve([gid])
        flow = BulkSendFlow(rt.bulk_send, "GB")
        flow.load_recipients(resolved.recipients, "Everyone 20k")
        flow.set_account(rt.accounts.by_name("Sandbox").id)
        report = flow.set_template("Hi {{first_name|there}}, see you on {{appointment}} with {{stylist}}")
        flow.preview(50)
        runs.append(time.perf_counter() - t)
        accepted = report.accepted
    return {"group_preview_s": round(statistics.median(runs), 3), "group_preview_accepted": accepted}


def _vcards(path: Path, n: int, rng: random.Random) -> None:
    with path.open("w", encoding="utf-8", newline="\r\n") as f:
        for i in range(n):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            f.write(
                f"BEGIN:VCARD\nVERSION:3.0\nN:{last};{first};;;\nFN:{first} {last}\n"
                f"TEL;TYPE=CELL:+447912{i:06d}\nTEL;TYPE=WORK:+44207{1000000 + i % 8000000:07d}\n"
                "CATEGORIES:clients\nEND:VCARD\n"
            )


def _vcard_figures(home: Path, n: int, rng: random.Random) -> dict[str, Any]:
    import vobject

    from smsdesk.runtime import Runtime

    path = home.parent / "cards.vcf"
    _vcards(path, n, rng)
    rt = Runtime.open(str(home.parent / "vcf-home"))
    try:
        t = time.perf_counter()
        done = asyncio.run(rt.contacts.import_file(path))
        import_s = time.perf_counter() - t
    finally:
        rt.close()
    t = time.perf_counter()
    count = sum(1 for _ in vobject.readComponents(path.read_text(encoding="utf-8")))
    floor_s = time.perf_counter() - t
    return {
        "vcard_cards": n,
        "vcard_import_s": round(import_s, 2),
        "vcard_added": done.added,
        "vcard_merged": done.merged,
        "vcard_skipped": len(done.skipped),
        "vobject_only_s": round(floor_s, 2),
        "vobject_cards": count,
        "vcard_import_ratio_to_vobject": round(import_s / floor_s, 2),
    }


def main(argv: list[str]) -> dict[str, Any]:
    p = argparse.ArgumentParser(prog="contacts_scale")
    p.add_argument("--contacts", type=int, default=100_000)
    p.add_argument("--groups", type=int, default=500)
    p.add_argument("--vcards", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args(argv)
    rng = random.Random(args.seed)
    from smsdesk.runtime import Runtime

    with tempfile.TemporaryDirectory(prefix="smsdesk-bench-contacts-") as tmp:
        home = Path(tmp) / "home"
        rt = Runtime.open(str(home))
        try:
            t = time.perf_counter()
            big = _fill(rt, args.contacts, args.groups, rng)
            result: dict[str, Any] = {"contacts": args.contacts, "groups": args.groups + 1}
            result["fill_s"] = round(time.perf_counter() - t, 1)
            result.update(_gui_figures(rt))
            result.update(_group_preview(rt, big))
        finally:
            rt.close()
        if args.vcards:
            result.update(_vcard_figures(home, args.vcards, rng))
    result["meets_targets"] = {k: result[k] <= v for k, v in TARGETS.items() if k in result}
    if "vcard_import_s" in result:
        result["meets_targets"]["vcard_import_s"] = result["vcard_import_s"] <= 30
    return result
