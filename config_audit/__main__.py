"""The process's entry (`config-audit`, `python -m config_audit`): the command line, reached by
the cheapest path. The git hooks' shims run `hook NAME` through the repository's warm hook
runner when one answers (`config_audit.hookrunner`); `--hook-runner DIR` is that runner
(started by a hook, never by hand); `ci` starts its Presidio worker before anything else."""

from __future__ import annotations

import os
import sys


def _main(argv: list[str]) -> object:
    from config_audit.cli import main

    return main(argv)


def run() -> None:
    command = sys.argv[1:2]
    if command == ["hook"]:
        from config_audit.hookrunner.client import run_warm

        code = run_warm(sys.argv[1:])
        if code is None:  # no runner answered: in this process, which then starts one
            from config_audit.hookrunner.launch import run_in_process

            code = run_in_process(_main, sys.argv[1:])
        sys.exit(code)
    if command == ["--hook-runner"]:
        import logging

        from config_audit.hookrunner.zygote import serve_forever

        code = serve_forever(sys.argv[1:], _main)
        logging.shutdown()
        os._exit(code)  # no teardown of the imported modules: nothing is left to flush
    if command == ["ci"]:
        # Presidio's ~1 s import in the worker then overlaps even the command line's own
        # imports; a validator that would start another worker stops this one (validate.pool).
        from config_audit.validate.pool import start_early

        start_early()
    from config_audit.cli import main

    main()  # the process's own command line (argv None): it may leave without teardown


if __name__ == "__main__":
    run()
