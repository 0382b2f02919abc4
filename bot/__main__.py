"""Command line: `python -m bot run | console | telegram | classify | train | flows | check-content | invite`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from pathlib import Path

from bot import logs
from bot.settings import Settings


def configure_logging(settings: Settings, *, to_file: bool) -> None:
    """Log to standard error, or to .run/logs/bot.log when the terminal is the chat."""
    file = settings.state_dir / "logs" / "bot.log" if to_file else None
    logs.configure_logging(settings.log_level, file)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="Telegram when TELEGRAM_BOT_TOKEN is set, otherwise the console chat")
    sub.add_parser("console", help="chat in the terminal through the same pipeline")
    sub.add_parser("telegram", help="serve the bot on Telegram")
    sub.add_parser("classify", help="JSON lines {\"text\"} in, {text, language, topic, confidence} out")
    train = sub.add_parser("train", help="train the engine's model if its sources changed")
    train.add_argument("--force", action="store_true", help="train even if a current model exists")
    sub.add_parser("flows", help="regenerate flows/ (domain and rules) from knowledge_base/topics.yml")
    sub.add_parser("check-content", help="check the knowledge base, NLU data and catalogs")
    invite = sub.add_parser("invite", help="print a single-use invite code (the first coordinator's, for example)")
    invite.add_argument("role", nargs="?", choices=("coordinator", "volunteer"), default="coordinator")
    sub.add_parser("migrate", help="bring the database schema to the newest migration")
    args = parser.parse_args(argv)

    settings = Settings.from_env()
    command = args.command
    if command == "run":
        command = "telegram" if settings.telegram_token else "console"

    if command == "console":
        configure_logging(settings, to_file=True)
        from bot.console import run_console

        with contextlib.suppress(KeyboardInterrupt, asyncio.CancelledError):
            asyncio.run(run_console(settings))
        return 0
    if command == "telegram":
        configure_logging(settings, to_file=False)
        if not settings.telegram_token:
            print("TELEGRAM_BOT_TOKEN is not set.", file=sys.stderr)
            return 2
        from bot.app import run_telegram

        run_telegram(settings)
        return 0
    if command == "classify":
        configure_logging(settings, to_file=True)
        from bot.classify import run_classify

        try:
            return asyncio.run(run_classify(settings))
        except (KeyboardInterrupt, asyncio.CancelledError):
            return 130
    if command == "train":
        configure_logging(settings, to_file=False)
        from bot.engine.process import ensure_trained

        path = ensure_trained(settings, force=args.force)
        print(f"Model: {path}")
        return 0
    if command == "flows":
        from bot.flows import write_flows
        from bot.knowledge import load_content

        changed = write_flows(settings.root, load_content(settings.root / "knowledge_base").topics)
        print("\n".join(f"updated {path}" for path in changed) or "flows/ is up to date")
        return 0
    if command == "check-content":
        from bot.content_check import check_all, print_report

        problems = check_all(Path(settings.root))
        print_report(problems)
        return 1 if any(p.severity == "error" for p in problems) else 0
    if command in {"invite", "migrate"}:
        configure_logging(settings, to_file=False)
        return asyncio.run(_database_command(settings, command, getattr(args, "role", "")))
    parser.error(f"unknown command {command}")
    return 2


async def _database_command(settings: Settings, command: str, role: str) -> int:
    from bot.services import open_services

    async with open_services(settings, start_engine=False) as services:  # migrates on opening
        if command == "invite":
            invite = await services.handoff.volunteers.create_invite(role)
            print(f"Invite code ({role}, valid until {invite.expires_at:%Y-%m-%d %H:%M} UTC): {invite.code}")
            print(f"Send this to the bot on Telegram: /volunteer {invite.code}")
        else:
            print("The database schema is up to date.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
