"""Command line: `python -m bot run | console | telegram | classify | train | check-content | review | approve |
coverage | preview | add-language | suggestions | flows | invite | migrate | health`."""

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
    train.add_argument("--evaluate", action="store_true",
                       help="after a training, compare held-out accuracy with bench/heldout-baseline.json "
                            "(what `make train` does); exit 1 when a language dropped")
    sub.add_parser("flows", help="regenerate flows/ (domain and rules) from knowledge_base/topics.yml")
    sub.add_parser("check-content", help="check the knowledge base, NLU data and catalogs")
    sub.add_parser("review", help="list the answers and text files awaiting review")
    approve = sub.add_parser("approve", help="record your approval of an answer or a file (a second person)")
    approve.add_argument("--by", required=True, help="your name, as the team knows you")
    approve.add_argument("--topic", help="the topic id, such as rights_detention")
    approve.add_argument("--language", default="en", help="the language code of the answer")
    approve.add_argument("--file", help="approve every answer of this file, or a flows.yml / country_notes.yml")
    sub.add_parser("coverage", help="topics x languages: present, missing, outdated (writes docs/COVERAGE.md)")
    preview = sub.add_parser("preview", help="a topic or flow in any language, as Telegram shows it")
    preview.add_argument("name", nargs="?", help="a topic id or a flow id; none: list them")
    preview.add_argument("--language", help="a language code, several separated by commas, or all")
    add_language = sub.add_parser("add-language", help="create the files of a new language for editors to fill")
    add_language.add_argument("code", help="ISO 639 code in lower case, such as ps")
    add_language.add_argument("--name", required=True, help="its English name, such as Pashto")
    add_language.add_argument("--native", required=True, help="its own name, such as پښتو")
    add_language.add_argument("--dry-run", action="store_true", help="list what would be created; write nothing")
    invite = sub.add_parser("invite", help="print a single-use invite code (the first coordinator's, for example)")
    invite.add_argument("role", nargs="?", choices=("coordinator", "volunteer"), default="coordinator")
    sub.add_parser("migrate", help="bring the database schema to the newest migration")
    sub.add_parser("health", help="whether the bot, the engine and the database answer (exit 1 if one does not)")
    good = sub.add_parser("suggestions", help="the answers volunteers marked with /good, for the editors")
    good.add_argument("--all", action="store_true", help="the handled ones too")
    good.add_argument("--done", type=int, metavar="ID", help="mark one used")
    good.add_argument("--dismiss", type=int, metavar="ID", help="mark one dismissed")
    good.add_argument("--note", help="a note on --done or --dismiss")
    good.add_argument("--export", type=Path, metavar="FILE.yml", help="write the new ones as NLU examples and answers")
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
        from bot.engine.process import ensure_trained, model_path
        from bot.errors import EngineUnavailable

        trains = args.force or not model_path(settings).exists()
        try:
            path = ensure_trained(settings, force=args.force)
        except EngineUnavailable as error:  # the end of Rasa's log is already on the screen
            print(f"Training failed: {error}", file=sys.stderr)
            return 1
        print(f"Model: {path}")
        if not args.evaluate:
            return 0
        if not trains:
            print("The model is current (its sources have not changed): held-out evaluation skipped; "
                  "--force retrains and evaluates.", file=sys.stderr)
            return 0
        from bench.regression import check_heldout

        return check_heldout(settings, path)
    if command == "flows":
        from bot.flows import write_flows
        from bot.knowledge import load_content

        changed = write_flows(settings.root, load_content(settings.root / "knowledge_base").topics)
        print("\n".join(f"updated {path}" for path in changed) or "flows/ is up to date")
        return 0
    if command == "check-content":
        from bot.content_check import check_all, print_report

        problems = check_all(Path(settings.root))
        print_report(problems, Path(settings.root))
        return 1 if any(p.severity == "error" for p in problems) else 0
    if command in {"review", "approve", "coverage", "preview"}:
        return _editors_command(settings, args)
    if command == "add-language":
        from bot.editors.new_language import run as add_language_files

        return add_language_files(Path(settings.root), args.code, args.name, args.native, dry_run=args.dry_run)
    if command == "suggestions":
        configure_logging(settings, to_file=True)  # the terminal is for the list
        from bot.editors.suggestions import Request, run_suggestions

        request = Request(args.all, args.done, args.dismiss, args.note, args.export)
        return asyncio.run(run_suggestions(settings.database_url, request))
    if command == "health":
        logs.configure_logging("WARNING", None)  # the terminal is for the report
        from bot.health import run_health

        return asyncio.run(run_health(settings))
    if command in {"invite", "migrate"}:
        configure_logging(settings, to_file=False)
        return asyncio.run(_database_command(settings, command, getattr(args, "role", "")))
    parser.error(f"unknown command {command}")
    return 2


def _editors_command(settings: Settings, args: argparse.Namespace) -> int:
    """The editors' tools: review, approve, coverage and preview."""
    from bot.errors import ContentError

    root = Path(settings.root)
    try:
        if args.command == "review":
            from bot.editors.approve import print_pending

            return print_pending(root)
        if args.command == "approve":
            from bot.editors.approve import approve

            outcomes = approve(root, args.by, topic=args.topic, language=args.language, file=args.file)
            print("\n".join(outcomes))
            return 1 if any("NOT approved" in line for line in outcomes) else 0
        if args.command == "coverage":
            from bot.editors import coverage

            return coverage.run(root, root / "docs" / "COVERAGE.md")
        from bot.editors import preview

        return preview.run(settings, args.name, preview.languages_argument(args.language, root))
    except ContentError as exc:
        print(f"{exc}", file=sys.stderr)
        return 1


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
