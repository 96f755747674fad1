"""`--workers N` and `--ray ADDRESS` for a program's sweeps and studies: what each worker process needs to train
its runs."""

from common.study.parallel import Workers


def workers_for(program, args):
    """How a program's plan trains its runs: on Ray with `--ray`, N at a time with `--workers N`, or None (one at a
    time, here). Each worker builds its trials from the program's worker factory."""
    factory, factory_args = program.worker_factory()
    if getattr(args, "ray", None):
        from common.study.ray_workers import RayWorkers  # Ray: an optional extra

        return RayWorkers(args.ray, args.workers if args.workers > 1 else 0, factory, (factory_args,))
    if args.workers <= 1:
        return None
    placement = program.environment.placement()
    return Workers(args.workers, factory, (factory_args,), gpus=placement.replicas if placement.kind != "cpu" else 0)
