"""Speed of the ladder's training step: steps per second, effective GFLOP/s and their share of the machine's
practical peak (a large matrix product in the same precision, measured in the same run), for the paper's MLP ladder
and the conv ladder on the default autoencoder's encoder, in every way of computing the machine offers.

    python benchmarks/ladder_speed.py [--nets mlp,conv] [--ways float32,float32+xla,bfloat16,bfloat16+xla]
                                      [--steps 60] [--warm-up 15] [--repeat 2]

Each way builds a fresh ladder, seeded alike, trains `--warm-up` steps (tracing, compiling; not timed) then
`--steps` timed steps of 100 labelled + 100 unlabelled MNIST images through Keras' `fit`, `--repeat` times: the
best repeat counts. The FLOP count is the network's own, not the implementation's: per step the corrupted pass over
both halves, the clean pass over the unlabelled half (the only half whose clean values a cost reads) and the
decoder over the unlabelled half, each counted as 2 FLOPs a multiply-add, backward twice forward. Its parts are
printed. The processor, its vector instruction sets and the threads are printed first.
"""

import argparse
import collections
import glob
import os
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from common.data import dataset
from common.keras_setup import keep_quiet, keras, layers, tf
from models.compute.ways import Way, bfloat16_on_cpu, computing, cpu_flags, processor_name
from models.config.autoencoder import AutoencoderConfig
from models.config.classifier import ClassifierConfig, LadderSettings
from models.networks.encoder import copy_autoencoder, encoder_view
from models.networks.ladder import Ladder
from models.networks.ladder_encoder import Level
from models.training import ladder_training
from models.training.autoencoder_training import new_autoencoder
from models.training.joint_batches import joint_batches

MLP_LEVELS = (1000, 500, 250, 250, 250, 10)  # the paper's MNIST MLP (benchmarks/ladder_reference.py)
PAPER_WEIGHTS = (1000.0, 10.0, 0.1, 0.1, 0.1, 0.1, 0.1)
HALF = 100  # labelled and unlabelled images a step, each: the reference's and the study's ladder arm
MATRIX = 2048  # side of the matrix product that measures the practical peak
FLAGS_SHOWN = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "avx512_fp16", "amx_tile", "amx_bf16")
BACKWARD = 2.0  # a backward pass costs about twice the forward one


def parse(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nets", default="mlp,conv", help="which ladders: mlp, conv (default both)")
    parser.add_argument("--ways", default="float32,float32+xla,bfloat16,bfloat16+xla",
                        help="ways of computing, as precision[+xla] (default all four; bfloat16 only where the "
                             "processor has it)")
    parser.add_argument("--steps", type=int, default=60, help="timed steps per repeat (default 60)")
    parser.add_argument("--warm-up", type=int, default=15, help="untimed steps first (default 15)")
    parser.add_argument("--repeat", type=int, default=2, help="timed repeats; the best counts (default 2)")
    parser.add_argument("--profile", action="store_true",
                        help="also profile the conv ladder's float32 step: each kind of operation's share of the "
                             "time the operations take (TensorFlow's profiler)")
    return parser.parse_args(argv)


def level_macs(ladder) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """Multiply-adds per image of each encoder level and each decoder map (V), named."""
    encoder = ladder.encoder
    shapes = encoder.shapes
    up = []
    for i, (level, linear) in enumerate(zip(encoder.levels, encoder.linears), start=1):
        incoming = int(linear.kernel.shape[-2]) if level.kind == "conv" else int(linear.kernel.shape[0])
        out = shapes[i]
        area = out[0] * out[1] if level.kind == "conv" else 1
        kernel = level.kernel ** 2 if level.kind == "conv" else 1
        up.append((f"{level.kind} {incoming}→{level.size}" + (f" at {out[0]}×{out[1]}" if area > 1 else ""),
                   area * kernel * incoming * level.size))
    down = []
    for i, block in sorted(ladder.vertical.items()):
        linear = next(layer for layer in block.layers if isinstance(layer, layers.Dense | layers.Conv2DTranspose))
        above = shapes[i + 1]
        if isinstance(linear, layers.Dense):
            macs = int(np.prod(linear.kernel.shape))
        else:
            k, _, out_channels, in_channels = linear.kernel.shape
            macs = above[0] * above[1] * k * k * in_channels * out_channels
        down.append((f"V{i}: {linear.name}", int(macs)))
    return up, down


def step_flops(ladder, half: int = HALF) -> tuple[float, list[str]]:
    """The FLOPs of one training step (see the module's docstring) and lines describing their parts."""
    up, down = level_macs(ladder)
    encoder = sum(m for _, m in up)
    decoder = sum(m for _, m in down) if ladder.combinators else 0
    corrupted, clean = 2 * half, half if ladder.combinators else 0
    forward = 2 * (encoder * (corrupted + clean) + decoder * half)
    total = forward * (1 + BACKWARD)
    lines = [f"  encoder, per image: {encoder / 1e6:.2f} M multiply-adds (" +
             ", ".join(f"{n}: {m / 1e6:.2f} M" for n, m in up) + ")"]
    if decoder:
        lines.append(f"  decoder, per image: {decoder / 1e6:.2f} M multiply-adds (" +
                     ", ".join(f"{n}: {m / 1e6:.2f} M" for n, m in down) + ")")
    lines.append(f"  a step: corrupted pass over {corrupted}, clean pass over {clean}, decoder over "
                 f"{half if decoder else 0} images; forward {forward / 1e9:.2f} GFLOP, with backward "
                 f"{total / 1e9:.2f} GFLOP")
    return total, lines


def matrix_peak(precision: str, side: int = MATRIX, repeat: int = 10) -> float:
    """GFLOP/s of a `side` × `side` matrix product in TensorFlow in `precision`, the best of `repeat`."""
    dtype = tf.bfloat16 if precision == "bfloat16" else tf.float32
    a = tf.cast(tf.random.normal((side, side), seed=1), dtype)
    b = tf.cast(tf.random.normal((side, side), seed=2), dtype)
    product = tf.function(lambda x, y: tf.reduce_sum(tf.cast(tf.linalg.matmul(x, y)[0, :1], tf.float32)))
    product(a, b).numpy()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        product(a, b).numpy()
        best = min(best, time.perf_counter() - start)
    return 2 * side ** 3 / best / 1e9


def data(count: int = 20_000):
    """(labelled images, labels), unlabelled images: the first `count` MNIST training images in [0, 1]."""
    images, labels = dataset.load_labelled(dataset.TRAIN_IMAGES, dataset.TRAIN_LABELS, limit=count)
    images = images.astype(np.float32) / 255.0
    return (images[:1000], labels[:1000]), images


def conv_ladder(way):
    """The study's ladder arm on the default autoencoder's encoder (fresh weights: the speed is the same)."""
    with computing(way):
        autoencoder = new_autoencoder(AutoencoderConfig())
        encoder = encoder_view(copy_autoencoder(autoencoder, policy=way.policy))
        config = ClassifierConfig(batch_size=HALF, unlabelled_batch=HALF, ladder=LadderSettings())
        return ladder_training.build_ladder(encoder, config, 10, 1)


def mlp_ladder(way):
    """The paper's MLP ladder, as benchmarks/ladder_reference.py builds it."""
    keras.utils.set_random_seed(1)
    with computing(way):
        ladder = Ladder([Level("dense", size) for size in MLP_LEVELS], (28, 28, 1), weights=PAPER_WEIGHTS,
                        noise=0.3, per="unit", seed=1)
        ladder.compile(optimizer=keras.optimizers.Adam(0.002, epsilon=1e-8), loss="sparse_categorical_crossentropy",
                       metrics=["accuracy"])
    return ladder


def seconds_per_step(ladder, xla: bool, labelled, images, args) -> float:
    """The best repeat's seconds per training step, warm-up excluded."""
    ladder.jit_compile = xla
    stream = joint_batches(labelled, images, HALF, 1, HALF).repeat()
    clock = StepClock(args.warm_up)
    ladder.fit(stream, epochs=args.repeat, steps_per_epoch=args.warm_up + args.steps, verbose=0, shuffle=False,
               callbacks=[clock, keras.callbacks.TerminateOnNaN()])
    return min(clock.seconds) / args.steps


class StepClock(keras.callbacks.Callback):
    """The seconds from the end of step `warm_up` to the end of each epoch's last step."""
    def __init__(self, warm_up: int):
        super().__init__()
        self.warm_up = warm_up
        self.seconds = []
        self.start = None

    def on_train_batch_end(self, batch, logs=None):
        if batch + 1 == self.warm_up:
            self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.start)


PROFILED_STEPS = 10
OTHER = "element-wise operations (normalisation, combinators, costs, activations, Adam)"
CONVOLUTIONS = "convolutions and matrix products"
ONE_CHANNEL = re.compile(r"/(encoder_1|decoder_0)(_\d+)?/")  # the convolutions from and to the images' channel
ONE_CHANNEL_KIND = "  of which the first level's (1 → 16) and the last decoder map's (16 → 1)"
KINDS = {  # an operation's kind, by its TensorFlow op name
    CONVOLUTIONS: ("Conv2D", "Conv2DBackpropFilter", "Conv2DBackpropInput", "MatMul"),
    "noise (random numbers)": ("StatelessRandomUniformV2", "StatelessRandomNormalV2", "Log", "Sqrt", "Cos", "Sin"),
    "reductions (moments, gradients of broadcasts)": ("Sum", "Mean", "SquaredDifference"),
}


def profile(labelled, images, args) -> list[tuple[str, float]]:
    """Each kind of operation's share of the conv ladder's float32 step, from TensorFlow's profiler over
    PROFILED_STEPS steps (after a warm-up): the kinds of KINDS, the other element-wise operations, the rest."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2  # after keras_setup, which keeps TensorFlow's start quiet




    ladder = conv_ladder(Way())
    stream = joint_batches(labelled, images, HALF, 1, HALF).repeat()
    ladder.fit(stream, epochs=1, steps_per_epoch=args.warm_up, verbose=0, shuffle=False)
    folder = tempfile.mkdtemp()
    tf.profiler.experimental.start(folder)
    ladder.fit(stream, epochs=1, steps_per_epoch=PROFILED_STEPS, verbose=0, shuffle=False)
    tf.profiler.experimental.stop()
    space = xplane_pb2.XSpace()
    space.ParseFromString(Path(sorted(glob.glob(f"{folder}/plugins/profile/*/*.xplane.pb"))[-1]).read_bytes())
    totals = collections.Counter()
    for plane in space.planes:
        names = {key: value.name for key, value in plane.event_metadata.items()}
        for line in (line for line in plane.lines if line.name.startswith("tf_")):
            for event in line.events:
                name = names.get(event.metadata_id, "")
                if ":" in name and "::" not in name:  # an operation (not the executor's own events)
                    op = name.rsplit(":", 1)[1].removeprefix("_MklNative").removeprefix("_Mkl")
                    kind = next((k for k, ops in KINDS.items() if op in ops), OTHER)
                    totals[kind] += event.duration_ps
                    if kind == CONVOLUTIONS and ONE_CHANNEL.search(name):
                        totals[ONE_CHANNEL_KIND] += event.duration_ps
    whole = sum(value for kind, value in totals.items() if kind != ONE_CHANNEL_KIND)
    return [(kind, value / whole) for kind, value in totals.most_common()]


def machine() -> str:

    flags = cpu_flags()
    shown = [f for f in FLAGS_SHOWN if f in flags]
    return (f"{processor_name()}, {len(os.sched_getaffinity(0))} cores; instruction sets: "
            f"{', '.join(shown) or 'none of ' + ', '.join(FLAGS_SHOWN)}")


def main(argv=None) -> int:
    args = parse(argv)

    keep_quiet()
    ways = [Way.from_key(key.strip()) for key in args.ways.split(",")]
    if not bfloat16_on_cpu(cpu_flags()):
        ways = [way for way in ways if way.precision == "float32"]
    print(machine())
    print(f"TensorFlow {tf.__version__}, {tf.config.threading.get_intra_op_parallelism_threads() or 'all'} "
          f"intra-op threads; {args.steps} timed steps after {args.warm_up}, best of {args.repeat}", flush=True)
    peaks = {p: matrix_peak(p) for p in dict.fromkeys(way.precision for way in ways)}
    for precision, peak in peaks.items():
        print(f"peak: {MATRIX} × {MATRIX} matrix product in {precision}: {peak:.0f} GFLOP/s")
    labelled, images = data()
    builders = {"mlp": ("MLP ladder 784-1000-500-250-250-250-10", mlp_ladder),
                "conv": ("conv ladder on the default autoencoder's encoder + 128 + 10", conv_ladder)}
    rows = []
    for net in (n.strip() for n in args.nets.split(",")):
        title, build = builders[net]
        flops, lines = step_flops(build(Way()))
        print(f"\n{title}: {flops / 1e9:.2f} GFLOP a step of {HALF} + {HALF} images", *lines, sep="\n", flush=True)
        for way in ways:
            try:
                step = seconds_per_step(build(way), way.xla, labelled, images, args)
            except Exception as error:  # noqa: BLE001 (a way this code cannot compute in is reported, not fatal)
                print(f"  {way.key()}: failed: {type(error).__name__}: {str(error).splitlines()[0][:160]}")
                continue
            gflops = flops / step / 1e9
            rows.append((net, way.key(), step, gflops, gflops / peaks[way.precision]))
            print(f"  {way.key():14s} {1 / step:6.2f} steps/s  {step * 1000:7.1f} ms a step  {gflops:6.1f} GFLOP/s  "
                  f"{100 * gflops / peaks[way.precision]:4.1f} % of the {way.precision} peak", flush=True)
    if args.profile:
        print("\nconv ladder, float32: where the operations' time goes")
        for kind, share in profile(labelled, images, args):
            print(f"  {100 * share:5.1f} %  {kind}")
    print("\nnet,way,seconds_per_step,gflops,share_of_peak")
    for net, key, step, gflops, share in rows:
        print(f"{net},{key},{step:.5f},{gflops:.1f},{share:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
