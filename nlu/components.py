"""Custom Rasa NLU components. First in the pipeline, so every channel and `rasa test` see the same text."""
from __future__ import annotations

from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_VALUE,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.text_normalizer import normalise


# Registered as a featurizer so the recipe runs it in order, before the tokenizer, at training and
# at inference, for NLU and for end-to-end features alike.
@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class ChineseTextNormalizer(GraphComponent):
    """Rewrites a message's text into normalised form and moves annotated entity spans with it."""

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "ChineseTextNormalizer":
        """Create the component (it has no state to train or load)."""
        return cls()

    @staticmethod
    def _normalise_message(message: Message) -> None:
        text = message.get(TEXT)
        if not text:
            return
        result = normalise(text)
        if result.text == text:
            return
        entities = message.get(ENTITIES) or []
        for entity in entities:
            start, end = entity[ENTITY_ATTRIBUTE_START], entity[ENTITY_ATTRIBUTE_END]
            new_start, new_end = result.span(start, end)
            # A value that is the span's own text follows the text; a synonym value stays.
            if entity.get(ENTITY_ATTRIBUTE_VALUE) == text[start:end]:
                entity[ENTITY_ATTRIBUTE_VALUE] = result.text[new_start:new_end]
            entity[ENTITY_ATTRIBUTE_START], entity[ENTITY_ATTRIBUTE_END] = new_start, new_end
        message.set(TEXT, result.text, add_to_output=True)
        if entities:
            message.set(ENTITIES, entities)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Normalise every training example (text and entity spans)."""
        for message in training_data.training_examples:
            self._normalise_message(message)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        """Normalise incoming messages."""
        for message in messages:
            self._normalise_message(message)
        return messages
