"""Predicting the test set with the last classifier: accuracy and loss, a per-class report, a confusion matrix and
grids of right and wrong predictions; the test accuracy goes into the run's log row."""

import numpy as np

from common.ui.plots.plotting import plot_confusion, plot_image_grid
from common.ui.screens.saving import NOTHING_YET
from common.ui.terminal.tables import classification_report
from models.networks.evaluation import evaluate
from models.training.classifier_stages import predict_probabilities

GRID = 24  # images in each grid of correct and wrong predictions
SHORT_NAME = 3  # characters: class names up to this long fit "pred A / true B" on one line under a picture


def predict_test_set(session, program) -> None:
    """The menu's "Predict the test set" (and the end of a --no-menu run)."""
    console = session.console
    last = session.last
    if last is None:
        console.print(NOTHING_YET)
        return
    result = evaluate(predict_probabilities(last.run.model, program.test_x), program.test_y)
    names = list(program.classes.names)
    console.print(classification_report(result.per_class(), result.accuracy, result.loss, result.correct,
                                        result.wrong, names))
    console.print(f"Test accuracy: {result.accuracy:.4f} ({result.correct} correct, {result.wrong} wrong of "
                  f"{result.true.size})")
    session.update_log({"test_accuracy": result.accuracy, "test_loss": result.loss})
    paths = [plot_confusion(result.confusion, program.figures.path("confusion_matrix"),
                            f"Test set confusion matrix (accuracy {result.accuracy:.4f})", names)]
    for name, chosen in (("correct", np.flatnonzero(result.predicted == result.true)[:GRID]),
                         ("wrong", np.flatnonzero(result.predicted != result.true)[:GRID])):
        if chosen.size:
            joint = " / " if max(map(len, names)) <= SHORT_NAME else "\n"  # long names: one line each
            captions = [f"pred {names[result.predicted[i]]}{joint}true {names[result.true[i]]}" for i in chosen]
            paths.append(plot_image_grid(program.test_x[chosen], captions, program.figures.path(f"{name}_predictions"),
                                         f"{name.capitalize()} predictions ({chosen.size} shown)"))
    program.figures.present(paths)
