"""Webhook mode: `python -m bot telegram` with TELEGRAM_WEBHOOK_URL set, as deployed behind a proxy."""

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import httpx
import pytest

from bot.settings import ROOT
from tests.conftest import free_port
from tests.fake_telegram import FakeTelegram

pytestmark = pytest.mark.engine
SECRET = "webhook-secret-" + "x" * 40


async def test_updates_posted_to_the_webhook_are_answered_and_forgeries_refused(
        engine_url: str, engine_env: dict[str, str], tmp_path: Path) -> None:
    fake = FakeTelegram()
    await fake.start()
    port = free_port()
    env = {**os.environ, **engine_env, "STATE_DIR": str(tmp_path), "TELEGRAM_BOT_TOKEN": fake.token,
           "TELEGRAM_API_URL": fake.base_url, "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{port}",
           "TELEGRAM_WEBHOOK_PORT": str(port), "TELEGRAM_WEBHOOK_SECRET": SECRET}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "telegram", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    try:
        for _ in range(300):
            if any(s.method == "setWebhook" for s in fake.sent):
                break
            await asyncio.sleep(0.1)
        [registered] = [s for s in fake.sent if s.method == "setWebhook"]
        assert registered.params["url"] == f"http://127.0.0.1:{port}/{SECRET[:24]}"
        update = fake.message_update(201, "I was arrested, what are my rights?")
        async with httpx.AsyncClient() as client:
            url = f"http://127.0.0.1:{port}/{SECRET[:24]}"
            forged = await client.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"})
            assert forged.status_code == 403
            accepted = await client.post(url, content=json.dumps(update),
                                         headers={"X-Telegram-Bot-Api-Secret-Token": SECRET[:64],
                                                  "Content-Type": "application/json"})
            assert accepted.status_code == 200
        [reply] = await fake.wait_for_messages(201, 1)
        assert "Last reviewed" in reply.text
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0
    finally:
        if process.returncode is None:
            process.kill()
        await fake.stop()
