"""A person at the keyboard, for driving whole menu flows in-process: each prompt gets the next answer of a script,
typed as keys into a prompt_toolkit pipe (real questionary prompts, real key handling), and menu entries are
picked by their label."""

import questionary
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from common.ui.terminal import prompts
from common.ui.terminal.prompts import SHORTCUTS, Prompter

ENTER, ESC, CTRL_U = "\r", "\x1b", "\x15"
ESCAPE_WAIT = 0.05  # seconds: an Esc typed into a pipe comes alone, no need to wait for more keys


class Keyboard(Prompter):
    """Answers prompts from `script`: for a menu, the start of the label to pick (or ESC); for a number or a text,
    the keys to type (ENTER included). `asked` keeps every prompt's message, in order."""

    def __init__(self, *script: str):
        super().__init__(escape_wait=ESCAPE_WAIT)
        self.script, self.asked = list(script), []

    def _keys(self, message: str) -> str:
        self.asked.append(message)
        assert self.script, f"the script ran out of answers at {message!r}"
        return self.script.pop(0)

    def _typed(self, prompt, message: str, *args, **kwargs):
        keys = self._keys(message)
        with create_pipe_input() as pipe:
            pipe.send_text(keys)
            return prompt(message, *args, input=pipe, output=DummyOutput(), escape_wait=self.escape_wait, **kwargs)

    def choose(self, message: str, choices: list, default=None):
        wanted = self.script[0] if self.script else None
        titles = [c.title if isinstance(c, questionary.Choice) else c for c in choices]
        if wanted not in (None, ESC) and len(wanted) > 1:  # a label: type the entry's shortcut
            matches = [i for i, title in enumerate(titles) if title.startswith(wanted)]
            assert len(matches) == 1, f"{wanted!r} is not exactly one of {titles} ({message!r})"
            self.script[0] = SHORTCUTS[matches[0]] + ENTER
        return self._typed(prompts.choose, message, choices, default)

    def ask_int(self, label: str, default, low, high):
        self._entered(label)
        return self._typed(prompts.ask_int, label, default, low, high)

    def ask_text(self, message: str, default: str = ""):
        self._entered(message)
        return self._typed(prompts.ask_text, message, default)

    def _entered(self, message: str) -> None:
        """A typed answer ends with Enter (or is Esc): otherwise the prompt would wait for more keys for ever, so
        a script that has got out of step with the questions fails here, naming the question."""
        if self.script:
            keys = self.script[0]
            assert keys == ESC or keys.endswith(ENTER), f"{keys!r} does not answer {message!r}: it ends without Enter"

    def confirm(self, message: str, default: bool = False):
        return self._typed(prompts.confirm, message, default)
