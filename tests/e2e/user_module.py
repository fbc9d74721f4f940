"""A user module named from config (``trainer.run_fn``) to show that custom code is honoured."""


def failing_run_fn(fn_args):
    raise ValueError("deliberately failing run_fn: this error must reach the user without a traceback")
