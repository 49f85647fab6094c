"""A reply typed in a conversation is never lost: it is stored as the conversation's draft, or
kept on this computer while the team workspace does not answer, and stored once it does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from smsdesk.runtime import Runtime
from smsdesk.services.reply_drafts import ReplyDrafts
from smsdesk.services.send import Draft


@pytest.mark.asyncio
async def test_a_draft_saved_as_the_workspace_goes_away_is_kept_here_then_stored(
    pg_cluster: Any, pg_workspace: str, tmp_path: Path, expect_warnings: Any
) -> None:
    rt = Runtime.open(str(tmp_path / "desk"), database=pg_workspace)
    try:
        account = rt.accounts.all()[0]
        await rt.sending.send(Draft(account.id, ["07911 123456"], "Your table is booked"))
        conv = rt.conversations.find(account.id, "+447911123456")
        assert conv is not None
        drafts = ReplyDrafts(rt.conversations, rt.health)
        assert await drafts.save(conv.id, "See you at 7")  # stored, as usual
        assert drafts.kept() == {}

        database = pg_workspace.rsplit("/", 1)[1]
        pg_cluster.allow_connections(database, False)
        try:
            # The server went away as the person typed: the save fails, the reply stays here.
            assert not await drafts.save(conv.id, "Can we make it 8pm?")
            assert drafts.kept() == {conv.id: "Can we make it 8pm?"}
            assert drafts.text_for(conv) == "Can we make it 8pm?"  # shown, not the stored one
        finally:
            pg_cluster.allow_connections(database, True)

        await drafts.put_back(conv.id, "Can we make it 8pm?")
        assert drafts.kept() == {}
        assert rt.conversations.get(conv.id).draft == "Can we make it 8pm?"
    finally:
        rt.close()
