"""Custom Rasa NLU components: the text normaliser (first in the pipeline, so every channel and `rasa test`
see the same text), and two rules after the classifiers that overrule DIET where a message's shape
says more than its words (noise, elliptical follow-ups)."""
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
    INTENT,
    INTENT_NAME_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.focus import focus_span
from nlu.follow_ups import (
    is_bare_how_much,
    is_follow_up,
    is_reply,
    is_whole_question,
    names_a_change,
    what_changes,
)
from nlu.noise import is_noise
from nlu.text_normalizer import normalise


class _StatelessComponent(GraphComponent):
    """A component with nothing to train, save or load: created bare, and training data passes through."""

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> GraphComponent:
        """Create the component (it has no state to train or load)."""
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Training examples pass through unchanged unless a component says otherwise."""
        return training_data


# Registered as a featurizer so the recipe runs it in order, before the tokenizer, at training and
# at inference, for NLU and for end-to-end features alike.
@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class ChineseTextNormalizer(_StatelessComponent):
    """Rewrites a message's text into normalised form and moves annotated entity spans with it."""

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


# Where a long message's whole text waits while the NLU reads only its question (QuestionFocus).
FULL_TEXT = "full_text"
QUESTION_FOCUS = "question_focus"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class QuestionFocus(_StatelessComponent):
    """Lets the NLU read only the question at the end of a long message (nlu/focus.py).

    Right after the normaliser. The whole text is kept, and FullTextRestorer puts it back after the
    classifiers, so the actions and the tracker see what the farmer wrote, and the question as
    `question_focus` in the parse data. Training examples are read whole (their entity spans are
    annotated on the whole text)."""

    def process(self, messages: List[Message]) -> List[Message]:
        """Read the question of each long message."""
        for message in messages:
            text = message.get(TEXT) or ""
            start, end = focus_span(text) if not text.startswith("/") else (0, len(text))
            if (start, end) != (0, len(text)):
                message.set(FULL_TEXT, (text, start))
                message.set(QUESTION_FOCUS, text[start:end], add_to_output=True)
                message.set(TEXT, text[start:end])
        return messages


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class FullTextRestorer(_StatelessComponent):
    """Puts a long message's whole text back after the classifiers (see QuestionFocus). Last in the pipeline."""

    def process(self, messages: List[Message]) -> List[Message]:
        """Restore the whole text of every focused message, and move its entities' spans onto it."""
        for message in messages:
            full = message.get(FULL_TEXT)
            if not full:
                continue
            text, offset = full
            entities = message.get(ENTITIES) or []
            for entity in entities:
                entity[ENTITY_ATTRIBUTE_START] += offset
                entity[ENTITY_ATTRIBUTE_END] += offset
            message.set(TEXT, text, add_to_output=True)
            if entities:
                message.set(ENTITIES, entities, add_to_output=True)
        return messages


class _IntentRelabeller(_StatelessComponent):
    """A rule that runs after DIET and the FallbackClassifier and may overrule their intent.

    It keeps DIET's ranking, so the console's review still shows what DIET thought, and says in the
    parse data which rule decided (`relabelled_by`)."""

    relabelled_to: str = ""

    def applies(self, text: str, intent: str, entities: List[Dict[str, Any]]) -> bool:  # pragma: no cover
        """Whether the rule overrules `intent` for this text and these entities."""
        raise NotImplementedError

    def process(self, messages: List[Message]) -> List[Message]:
        """Overrule the intent of every message the rule applies to."""
        for message in messages:
            text = message.get(TEXT) or ""
            intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY) or ""
            if text and not text.startswith("/") and self.applies(text, intent, message.get(ENTITIES) or []):
                message.set(INTENT, {INTENT_NAME_KEY: self.relabelled_to, PREDICTED_CONFIDENCE_KEY: 1.0},
                            add_to_output=True)
                message.set("relabelled_by", type(self).__name__, add_to_output=True)
        return messages



@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class NoiseDetector(_IntentRelabeller):
    """Keyboard mash, runs of interjections and digit strings (nlu/noise.py) are not understood, whatever
    DIET guessed: `nlu_fallback`, so the bot says it did not understand and, the second time, offers a
    person; the handoff ticket then skips these messages."""

    relabelled_to = "nlu_fallback"

    def applies(self, text: str, intent: str, entities: List[Dict[str, Any]]) -> bool:
        """Noise (nlu/noise.py), whatever DIET guessed."""
        return is_noise(text)


# Intents a follow-up's shape never overrules: what the farmer did there is clear whatever the words.
_NEVER_FOLLOW_UPS = frozenset({"feedback", "request_human", "subscribe_price_alert", "unsubscribe_price_alert",
                               "list_subscriptions", "bot_challenge", "help", "out_of_scope"})
_PRICE_INTENTS = frozenset({"ask_price", "inform", "nlu_fallback"})
# The intents an elliptical message is most often mistaken for.
_QUESTION_INTENTS = frozenset({"ask_price", "ask_price_trend", "ask_policy", "ask_pension", "calc_pension",
                               "ask_medical_insurance", "inform", "nlu_fallback"})
# Where the NLU says what a follow-up changes ("那早籼稻的呢" → "早籼稻"), for the actions.
FOLLOW_UP_CHANGE = "follow_up_change"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class FollowUpDetector(_IntentRelabeller):
    """Elliptical follow-ups ("那粳稻呢", "一公斤呢", nlu/follow_ups.py) are `inform`: the dialogue sends them
    to whatever the farmer asked last (the `topic` slot), which DIET cannot know. Every `inform` message
    carries what it changes (`follow_up_change`)."""

    relabelled_to = "inform"

    def applies(self, text: str, intent: str, entities: List[Dict[str, Any]]) -> bool:
        """A follow-up's shape that changes something (not "好的呢"); a bare "X是多少" where DIET saw a price."""
        if intent in _NEVER_FOLLOW_UPS:
            return False
        if is_follow_up(text) and not is_whole_question(text, intent):
            # Where DIET read a greeting, thanks, yes or no, only a message naming what changes is a
            # follow-up ("全国平均呢"); "那先拜拜了", "对着呢", "那算了吧" are what DIET said.
            return not is_reply(text) and (intent in _QUESTION_INTENTS or bool(entities) or names_a_change(text))
        names_a_topic = any(entity.get("entity") == "policy_topic" for entity in entities)
        return intent in _PRICE_INTENTS and not names_a_topic and is_bare_how_much(text)

    def process(self, messages: List[Message]) -> List[Message]:
        """Relabel follow-ups, and say what each `inform` message changes."""
        for message in super().process(messages):
            text = message.get(TEXT) or ""
            if (message.get(INTENT) or {}).get(INTENT_NAME_KEY) == "inform" and not text.startswith("/"):
                message.set(FOLLOW_UP_CHANGE, what_changes(text), add_to_output=True)
        return messages
