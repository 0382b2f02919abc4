"""A Rasa component that normalises text before tokenisation, for every language.

People type Arabic-script languages with or without diacritics, with any of several alef, yeh, kaf
and teh marbuta forms, with tatweel and elongated letters ("ممممكن"); n-gram features would see
each spelling as a different word. Folding them helps most where training data is thinnest.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

# The sentence encoder was trained on text as people write it, so it reads the original.
ORIGINAL_TEXT = "original_text"

_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_LATIN_MARKS = re.compile("[\u0300-\u036f]")
_REPEATS = re.compile(r"(\w)\1{2,}")
_FOLD = str.maketrans({
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ی": "ي", "ئ": "ي", "ة": "ه", "ۀ": "ه",
    "ک": "ك", "ؤ": "و", "ـ": None,
    **{chr(0x0660 + d): str(d) for d in range(10)},  # Arabic-Indic digits
    **{chr(0x06F0 + d): str(d) for d in range(10)},  # Persian/Urdu digits
})


def normalise(text: str) -> str:
    """Fold case, diacritics, letter variants, digits and elongations."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = _LATIN_MARKS.sub("", _MARKS.sub("", text))
    text = unicodedata.normalize("NFC", text).translate(_FOLD)
    return _REPEATS.sub(r"\1\1", text)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class TextNormalizer(GraphComponent):
    """Rewrites each message's text with `normalise` before the tokenizer sees it."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> TextNormalizer:
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for message in training_data.training_examples:
            self._normalise(message)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._normalise(message)
        return messages

    @staticmethod
    def _normalise(message: Message) -> None:
        text = message.get(TEXT)
        if isinstance(text, str):
            message.set(ORIGINAL_TEXT, text)
            message.set(TEXT, normalise(text))
