"""Each program's start once its arguments are parsed: its data loaded, then its session (baseline, runs, menu),
or the sweep or the study its flags ask for. The session sits above the programs it drives."""

from common.keras_setup import keep_quiet
from common.ui.programs.autoencoder_program import AutoencoderProgram
from common.ui.programs.classifier_program import ClassifierProgram
from common.ui.screens.sweep_screens import SweepScreens
from common.ui.session.session import Session
from common.ui.terminal.messages import program_console
from common.ui.terminal.prompts import Prompter, interactive


def run_autoencoder(args) -> int:
    """The autoencoder program with parsed arguments: a sweep with --sweep, else the session; its exit status."""
    keep_quiet()
    console = program_console()
    program = AutoencoderProgram(args, console)
    if args.axes:
        return SweepScreens(program, console, Prompter()).from_flags(args)
    return Session(program, args, console).run()


def run_classifier(args) -> int:
    """The classifier program with parsed arguments: the study with --study labels, a sweep with --sweep, else the
    session; its exit status."""
    keep_quiet()
    console = program_console()
    ask = Prompter()
    program = ClassifierProgram(args, console, ask)
    if not args.study and not args.axes:
        return Session(program, args, console, ask).run()
    if not program.start(not args.no_menu and interactive()):
        return 0
    if args.axes:
        return SweepScreens(program, console, ask).from_flags(args)
    return program.study.from_flags(args)
