"""Prompts answered through a pipe, as prompt_toolkit's own tests do; Esc and Ctrl-C mean back."""

import io

import pytest
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from rich.console import Console

from common.errors import ConfigError, UserError
from common.study.arms import LADDER_RECIPE
from common.ui.cli.flags import label_items
from common.ui.programs.classifier_program import ClassifierProgram
from common.ui.screens.hyperparameter_screens import ask_baseline
from common.ui.terminal.prompts import ask_int, ask_parsed, ask_text, choose, confirm
from models.config.classifier import ClassifierConfig
from models.config.fields import parse_number as parse_int
from tests.keyboard import CTRL_U, Keyboard

ENTER, DOWN, ESC, CTRL_C = "\r", "\x1b[B", "\x1b", "\x03"


def answer(prompt, keys: str, *args, **kwargs):
    with create_pipe_input() as pipe:
        pipe.send_text(keys)
        return prompt(*args, input=pipe, output=DummyOutput(), **kwargs)


def test_ask_int_takes_a_typed_number():
    assert answer(ask_int, "6" + ENTER, "Layers", 4, 2, 8) == 6


def test_ask_int_enter_alone_takes_the_default():
    assert answer(ask_int, ENTER, "Layers", 4, 2, 8) == 4


def test_ask_int_refuses_out_of_range_and_non_numbers_until_corrected():
    assert answer(ask_int, "9" + ENTER + "\x7f" + "abc" + ENTER + "\x7f" * 3 + "3" + ENTER, "Layers", 4, 2, 8) == 3


@pytest.mark.parametrize("key", [ESC, CTRL_C])
def test_escape_and_ctrl_c_go_back(key):
    assert answer(ask_int, "5" + key, "Layers", 4, 2, 8) is None
    assert answer(choose, key, "Menu", ["a", "b"]) is None


def test_choose_with_arrow_keys_and_with_a_number():
    assert answer(choose, DOWN + ENTER, "Menu", ["first", "second", "third"]) == "second"
    assert answer(choose, "3" + ENTER, "Menu", ["first", "second", "third"]) == "third"


def test_text_and_confirm():
    assert answer(ask_text, ENTER, "Path", default="runs/ae.h5") == "runs/ae.h5"
    assert answer(confirm, "y", "Sure?") is True


def test_parse_int_names_the_value():
    assert parse_int("12", 1, 20) == 12
    with pytest.raises(UserError, match="'x': expected a whole number from 1 to 20"):
        parse_int("x", 1, 20)
    with pytest.raises(UserError, match="'30': must be from 1 to 20"):
        parse_int("30", 1, 20)


class Refuses:
    """A program that refuses a batch larger than its labelled images, as the classifier does."""
    config_type = ClassifierConfig

    def proposals(self, said):
        return {}

    def check(self, config):
        used = config.label_budget or 1000
        if config.batch_size > used:
            raise ConfigError(f"batch size {config.batch_size} is larger than the {used} labelled training images",
                              ("batch_size", "label_budget"))


def test_a_refused_baseline_asks_again_for_what_was_refused_and_keeps_every_flag():
    given = {"optimizer": "sgd", "joint": True, "consistency": 5.0, "batch_size": 64, "label_budget": 20,
             "fc_units": 16, "epochs": 1, "fine_tune_epochs": 1}
    keyboard = Keyboard(CTRL_U + "16" + ENTER, ENTER)  # the batch size, then the labels kept
    console = Console(file=io.StringIO(), width=200)
    config, said = ask_baseline(keyboard, Refuses(), given, True, console)
    assert said == {**given, "batch_size": 16}  # the answer replaces what was refused; nothing else was asked
    assert keyboard.asked == ["Batch size", "Labelled training images (0 = all)"] and keyboard.script == []
    assert "batch size 64 is larger than the 20 labelled training images; please choose again" in \
        console.file.getvalue()
    assert (config.batch_size, config.label_budget, config.optimizer, config.joint.consistency) == \
        (16, 20, "sgd", 5.0)


def test_a_wrong_answer_is_said_and_asked_again_holding_what_was_typed():
    keyboard = Keyboard(CTRL_U + "100,allabc" + ENTER, "\x7f" * 3 + ENTER)  # the typo, then mended
    console = Console(file=io.StringIO(), width=200)
    assert ask_parsed(keyboard, console, "Numbers of labelled images:", "", label_items) == ["100", "all"]
    assert "error: '100,allabc': expected numbers of labelled images" in console.file.getvalue()
    assert keyboard.asked == ["Numbers of labelled images:"] * 2
    assert ask_parsed(Keyboard(ESC), console, "Numbers of labelled images:", "", label_items) is None


class Accepts:
    """A program that accepts every configuration, proposing what the classifier proposes."""
    config_type = ClassifierConfig
    proposals = ClassifierProgram.proposals

    def check(self, config):
        pass


def test_the_ladder_said_on_is_not_asked_what_it_does_without():
    keyboard = Keyboard(*[ENTER] * 4)  # units, stage 2 epochs, batch size, labels: their defaults
    config, said = ask_baseline(keyboard, Accepts(), {"ladder": True}, True, Console(file=io.StringIO()))
    assert "Epochs of stage 1 (head only)" not in keyboard.asked and len(keyboard.asked) == 4
    assert config.ladder is not None and "epochs" not in said


def test_the_ladder_said_on_proposes_the_ladder_arms_steps_and_length_and_a_said_value_wins():
    keyboard = Keyboard(*[ENTER] * 4)  # units, stage 2 epochs, batch size, labels: the proposed values
    config, said = ask_baseline(keyboard, Accepts(), {"ladder": True}, True, Console(file=io.StringIO()))
    proposed = (LADDER_RECIPE["fine_tune_epochs"], LADDER_RECIPE["batch_size"], LADDER_RECIPE["unlabelled_batch"])
    assert (config.fine_tune_epochs, config.batch_size, config.unlabelled_batch) == proposed
    config, said = ask_baseline(Keyboard(), Accepts(), {"ladder": True, "batch_size": 50, "fine_tune_epochs": 2,
                                                         "fc_units": 8, "label_budget": 100}, False, Console())
    assert (config.batch_size, config.fine_tune_epochs, config.unlabelled_batch) == (50, 2, 100)
    assert "unlabelled_batch" not in said  # proposed, not said: a study's arms still propose their own
    config, _ = ask_baseline(Keyboard(), Accepts(), {"fc_units": 8}, False, Console())
    assert (config.batch_size, config.fine_tune_epochs) == (64, 5)  # without the ladder: the defaults
