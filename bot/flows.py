"""Generate the engine's domain and rules under flows/ from knowledge_base/topics.yml.

Every topic is an intent whose response is a key, never text: `utter_<topic>` carries the custom
payload {"topic": <topic>}, and the bot renders it from the knowledge base in the user's language.
So editors change answers without retraining, and adding a topic is: topics.yml, then
`make flows`, then its answers and examples.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.knowledge import AREAS, Topic

HEADER = "# Generated from knowledge_base/topics.yml by `make flows`; do not edit by hand.\n"
SESSION = {
    "session_config": {"session_expiration_time": 60, "carry_over_slots_to_new_session": True}
}


def render_flows(topics: dict[str, Topic]) -> dict[str, str]:
    """The text of each generated file, keyed by its path relative to the repository root."""
    files: dict[str, str] = {}
    for area in AREAS:
        ids = [t.id for t in topics.values() if t.area == area]
        domain = {
            "version": "3.1",
            "intents": ids,
            "responses": {f"utter_{topic}": [{"custom": {"topic": topic}}] for topic in ids},
        }
        rules = {
            "version": "3.1",
            "rules": [
                {"rule": f"answer {topic}", "steps": [{"intent": topic}, {"action": f"utter_{topic}"}]}
                for topic in ids
            ],
        }
        files[f"flows/domain/{area}.yml"] = HEADER + _dump(domain)
        files[f"flows/rules/{area}.yml"] = HEADER + _dump(rules)
    fallback_domain = {
        "version": "3.1",
        **SESSION,
        "responses": {"utter_fallback": [{"custom": {"fallback": True}}]},
    }
    fallback_rules = {
        "version": "3.1",
        "rules": [
            {
                "rule": "ask to rephrase when the message was not understood",
                "steps": [{"intent": "nlu_fallback"}, {"action": "utter_fallback"}],
            }
        ],
    }
    files["flows/domain/session.yml"] = HEADER + _dump(fallback_domain)
    files["flows/rules/fallback.yml"] = HEADER + _dump(fallback_rules)
    return files


def write_flows(root: Path, topics: dict[str, Topic]) -> list[str]:
    """Write the generated files; returns the paths that changed."""
    changed = []
    for relative, text in render_flows(topics).items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(relative)
    return changed


def _dump(data: object) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
