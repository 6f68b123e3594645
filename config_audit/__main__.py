"""`python -m config_audit` runs the command line. The git hooks' shims run `hook NAME`
through the repository's warm hook runner when one answers (`config_audit.hookrunner`), and
`--hook-runner DIR` is that runner (started by a hook, never by hand)."""

from __future__ import annotations

import os
import sys


def _main(argv: list[str]) -> object:
    from config_audit.cli import main

    return main(argv)


if __name__ == "__main__":
    if sys.argv[1:2] == ["hook"]:
        from config_audit.hookrunner.client import run_warm

        code = run_warm(sys.argv[1:])
        if code is None:  # no runner answered: in this process, which then starts one
            from config_audit.hookrunner.launch import run_in_process

            code = run_in_process(_main, sys.argv[1:])
        sys.exit(code)
    if sys.argv[1:2] == ["--hook-runner"]:
        import logging

        from config_audit.hookrunner.zygote import serve_forever

        code = serve_forever(sys.argv[1:], _main)
        logging.shutdown()
        os._exit(code)  # no teardown of the imported modules: nothing is left to flush
    from config_audit.cli import main

    main()  # the process's own command line (argv None): it may leave without teardown
