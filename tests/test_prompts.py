"""Prompts answered through a pipe, as prompt_toolkit's own tests do; Esc and Ctrl-C mean back."""

import pytest
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from common.errors import UserError
from common.ui.prompts import ask_int, ask_text, choose, confirm, parse_int

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
